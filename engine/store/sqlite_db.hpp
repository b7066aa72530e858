// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// A thin RAII layer over sqlite3: a connection and prepared statements whose
// errors come back as Result values naming the SQL that failed.
//
// A damaged file (SQLITE_CORRUPT, SQLITE_NOTADB) is not something a caller can
// retry its way out of: such an error comes back as Errc::io saying the index
// is damaged, and the connection remembers it (Db::damaged()) so that its
// owner can move the file aside and rebuild it. ENOSPC/EDQUOT underneath any
// SQLite error come back as Errc::no_space.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "util/result.hpp"

namespace btfd::store {

// A statement handle. Owned statements are finalized on destruction; cached ones
// (from Db::prepare, which keeps them for reuse) are only reset.
class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, sqlite3_stmt* s, bool owned, bool* damaged = nullptr)
      : db_(db), s_(s), owned_(owned), damaged_(damaged) {}
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_), owned_(o.owned_), damaged_(o.damaged_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { release(); }

  Stmt& bind(int idx, std::string_view text);
  Stmt& bind(int idx, int64_t value);
  // Returns true while a row is available, false when done.
  Result<bool> step();
  // Runs to completion (for statements that return no rows).
  Status run();

  std::string text(int col) const;
  int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }

 private:
  void release();
  sqlite3* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
  bool owned_ = true;
  bool* damaged_ = nullptr;  // the owning Db's flag
};

class Db {
 public:
  static Result<Db> open(const std::string& path);
  Db() = default;
  Db(Db&& o) noexcept : db_(o.db_), cache_(std::move(o.cache_)), damaged_(std::move(o.damaged_)) { o.db_ = nullptr; }
  Db& operator=(Db&& o) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db() { close(); }

  Status exec(const char* sql);
  // Statements are compiled once per SQL text and reused: preparing costs more
  // than running a point query. The caller must hold the connection's lock.
  Result<Stmt> prepare(const char* sql);
  Error error(std::string_view what) const;
  sqlite3* raw() const { return db_; }
  bool is_open() const { return db_ != nullptr; }
  // True once any call on this connection reported a damaged database file.
  bool damaged() const { return damaged_ && *damaged_; }

 private:
  explicit Db(sqlite3* db) : db_(db), damaged_(std::make_unique<bool>(false)) {}
  void close();
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
  // On the heap so that statements keep a stable pointer to it across moves.
  std::unique_ptr<bool> damaged_;
};

// Maps SQLite result codes to Errc (FULL -> no_space, READONLY/PERM -> permission, ...).
Errc errc_from_sqlite(int code);
// The Error for a failed call on db: damage becomes Errc::io (and sets *damaged),
// an ENOSPC/EDQUOT underneath becomes Errc::no_space.
Error sqlite_failure(sqlite3* db, int rc, bool* damaged, std::string message);

// BEGIN IMMEDIATE ... COMMIT, rolled back if commit() is never reached.
class Transaction {
 public:
  static Result<Transaction> begin(Db& db);
  Transaction(Transaction&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_;
};

}  // namespace btfd::store
