// SPDX-License-Identifier: GPL-2.0-or-later
// Negative entries ("the hub has no BTF for this kernel"). Anyone who can ask
// for a kernel can make one, so they are bounded in number and collected when
// they expire.
#include "store/store.hpp"

namespace btfd::store {
namespace {

constexpr size_t kMaxReason = 512;

}  // namespace

Status Store::put_negative(const KernelIdentity& id, int64_t retry_after_unix, std::string reason,
                           const std::string& mirrors) {
  BTFD_TRY_VOID(validate_identity(id));
  if (reason.size() > kMaxReason) reason.resize(kMaxReason);
  {
    std::lock_guard lock(mu_);
    Status st = put_negative_locked(id, retry_after_unix, reason, mirrors);
    if (!st) return disk_error(std::move(st).error());
  }
  // Its row counts in the budget like any other (a small budget holds few).
  gc_if_over_budget();
  return {};
}

Status Store::put_negative_locked(const KernelIdentity& id, int64_t retry_after_unix, const std::string& reason,
                                  const std::string& mirrors) {
  // A negative entry is advice: losing the last few at a power cut costs a hub
  // request each, while an fsync per made-up kernel name would let any client
  // keep the disk busy. Without the fsync the commit is still atomic (WAL),
  // and the next durable commit of the connection flushes it too.
  BTFD_TRY_VOID(db_.exec("PRAGMA synchronous=NORMAL"));
  struct RestoreDurability {
    Db& db;
    ~RestoreDurability() { (void)db.exec("PRAGMA synchronous=FULL"); }
  } restore{db_};
  BTFD_TRY(Transaction tx, Transaction::begin(db_));
  {
    // Expired entries answer nothing; collecting them here keeps a steady
    // stream of misses from needing gc to stay bounded.
    BTFD_TRY(Stmt s, db_.prepare("DELETE FROM negative WHERE retry_after <= ?1"));
    BTFD_TRY_VOID(s.bind(1, now_()).run());
  }
  {
    // REPLACE gives the row a new rowid: rowid order is insertion order.
    BTFD_TRY(Stmt s, db_.prepare(
                         "INSERT OR REPLACE INTO negative(distro, version, arch, release, retry_after, reason, mirrors) "
                         "VALUES (?1,?2,?3,?4,?5,?6,?7)"));
    BTFD_TRY_VOID(s.bind(1, id.distro_id).bind(2, id.distro_version).bind(3, id.arch).bind(4, id.release)
                      .bind(5, retry_after_unix).bind(6, reason).bind(7, mirrors).run());
  }
  uint64_t rows = 0;
  {
    BTFD_TRY(Stmt s, db_.prepare("SELECT COUNT(*) FROM negative"));
    BTFD_TRY(bool row, s.step());
    rows = row ? static_cast<uint64_t>(s.int64(0)) : 0;
  }
  uint64_t cap = std::max<uint64_t>(opts_.max_negative, 1);
  uint64_t evicted = 0;
  if (rows > cap) {
    BTFD_TRY(Stmt s, db_.prepare(
                         "DELETE FROM negative WHERE rowid IN (SELECT rowid FROM negative ORDER BY rowid LIMIT ?1)"));
    BTFD_TRY_VOID(s.bind(1, static_cast<int64_t>(rows - cap)).run());
    evicted = static_cast<uint64_t>(sqlite3_changes(db_.raw()));
  }
  BTFD_TRY_VOID(tx.commit());
  counters_.negative_evicted += evicted;
  return {};
}

Result<std::optional<int64_t>> Store::find_negative(const KernelIdentity& id, const std::string& mirrors) {
  std::lock_guard lock(mu_);
  BTFD_TRY(Stmt s, db_.prepare("SELECT retry_after FROM negative WHERE distro=?1 AND version=?2 AND arch=?3 AND "
                               "release=?4 AND mirrors=?5"));
  BTFD_TRY(bool row, s.bind(1, id.distro_id).bind(2, id.distro_version).bind(3, id.arch).bind(4, id.release)
                         .bind(5, mirrors).step());
  if (!row || s.int64(0) <= now_()) return std::optional<int64_t>();
  return std::optional<int64_t>(s.int64(0));
}

Status Store::clear_negative(const KernelIdentity& id) {
  std::lock_guard lock(mu_);
  BTFD_TRY(Stmt s, db_.prepare("DELETE FROM negative WHERE distro=?1 AND version=?2 AND arch=?3 AND release=?4"));
  return s.bind(1, id.distro_id).bind(2, id.distro_version).bind(3, id.arch).bind(4, id.release).run();
}

Result<uint64_t> Store::clear_all_negative() {
  std::lock_guard lock(mu_);
  BTFD_TRY_VOID(db_.exec("DELETE FROM negative"));
  return static_cast<uint64_t>(sqlite3_changes(db_.raw()));
}

}  // namespace btfd::store
