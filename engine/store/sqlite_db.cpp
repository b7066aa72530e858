// SPDX-License-Identifier: GPL-2.0-or-later
#include "store/sqlite_db.hpp"

#include <cerrno>

namespace btfd::store {

Errc errc_from_sqlite(int code) {
  switch (code & 0xff) {
    case SQLITE_FULL: return Errc::no_space;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
    case SQLITE_CANTOPEN: return Errc::permission;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Errc::busy;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return Errc::corrupt;
    default: return Errc::io;
  }
}

Error sqlite_failure(sqlite3* db, int rc, bool* damaged, std::string message) {
  int primary = rc & 0xff;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
    if (damaged) *damaged = true;
    return make_error(Errc::io, "cache index is damaged (" + message + "); it is moved aside and rebuilt");
  }
  Errc code = errc_from_sqlite(rc);
  int sys = db ? sqlite3_system_errno(db) : 0;
  // SQLite reports some failed writes as IOERR_WRITE/IOERR_FSYNC; the errno says why.
  if ((primary == SQLITE_FULL || primary == SQLITE_IOERR) && (sys == ENOSPC || sys == EDQUOT)) code = Errc::no_space;
  Error e = make_error(code, std::move(message));
  e.sys_errno = primary == SQLITE_IOERR || primary == SQLITE_FULL ? sys : 0;
  return e;
}

void Stmt::release() {
  if (!s_) return;
  if (owned_) {
    sqlite3_finalize(s_);
  } else {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  s_ = nullptr;
}

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    release();
    db_ = o.db_;
    s_ = o.s_;
    owned_ = o.owned_;
    o.s_ = nullptr;
  }
  return *this;
}

Stmt& Stmt::bind(int idx, std::string_view text) {
  // An empty view may have no data pointer, which SQLite would bind as NULL.
  sqlite3_bind_text(s_, idx, text.data() ? text.data() : "", static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::bind(int idx, int64_t value) {
  sqlite3_bind_int64(s_, idx, value);
  return *this;
}

Result<bool> Stmt::step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_failure(db_, rc, damaged_,
                        std::string("sqlite: ") + sqlite3_errmsg(db_) + " (in \"" + sqlite3_sql(s_) + "\")");
}

Status Stmt::run() {
  for (;;) {
    BTFD_TRY(bool row, step());
    if (!row) return {};
  }
}

std::string Stmt::text(int col) const {
  const unsigned char* t = sqlite3_column_text(s_, col);
  return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(s_, col)))
           : std::string();
}

void Db::close() {
  for (auto& [sql, st] : cache_) sqlite3_finalize(st);
  cache_.clear();
  sqlite3_close_v2(db_);
  db_ = nullptr;
}

Db& Db::operator=(Db&& o) noexcept {
  if (this != &o) {
    close();
    db_ = o.db_;
    cache_ = std::move(o.cache_);
    damaged_ = std::move(o.damaged_);
    o.db_ = nullptr;
  }
  return *this;
}

Result<Db> Db::open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    return make_error(errc_from_sqlite(rc),
                      "cannot open index \"" + path + "\": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(raw, 1);
  // Other processes (btfctl's local modes, a second daemon during a restart) may
  // hold the lock briefly; wait rather than fail.
  sqlite3_busy_timeout(raw, 5000);
  return db;
}

Error Db::error(std::string_view what) const {
  return sqlite_failure(db_, sqlite3_extended_errcode(db_), damaged_.get(),
                        std::string("sqlite: ") + std::string(what) + ": " + sqlite3_errmsg(db_));
}

Status Db::exec(const char* sql) {
  if (!db_) return make_error(Errc::io, "cache index is not open");
  char* msg = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &msg);
  if (rc == SQLITE_OK) return {};
  std::string text = msg ? msg : sqlite3_errstr(rc);
  sqlite3_free(msg);
  return sqlite_failure(db_, rc, damaged_.get(), "sqlite: " + text);
}

Result<Stmt> Db::prepare(const char* sql) {
  if (!db_) return make_error(Errc::io, "cache index is not open");
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Stmt(db_, it->second, false, damaged_.get());
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) return error(sql);
  cache_.emplace(sql, s);
  return Stmt(db_, s, false, damaged_.get());
}

Result<Transaction> Transaction::begin(Db& db) {
  BTFD_TRY_VOID(db.exec("BEGIN IMMEDIATE"));
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_) (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
  Status st = db_->exec("COMMIT");
  if (st.ok()) db_ = nullptr;
  return st;
}

}  // namespace btfd::store
