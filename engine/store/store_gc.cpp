// SPDX-License-Identifier: GPL-2.0-or-later
// Eviction and unreferenced-blob sweeps, in bounded transactions: the event
// loop's lookups share the store's lock and must never wait for a whole gc.
#include <unistd.h>

#include <algorithm>

#include "store/store.hpp"

namespace btfd::store {
namespace {

constexpr const char* kReferencedSql =
    "SELECT EXISTS(SELECT 1 FROM kernels WHERE digest = ?1) OR "
    "EXISTS(SELECT 1 FROM minimized WHERE digest = ?1) OR "
    "EXISTS(SELECT 1 FROM objects WHERE digest = ?1)";

// Least useful first, each kind least recently used first. Every row counts
// in the budget (its row bytes), so each tier gives back what it holds even
// when its rows share one blob, and gc meets any budget with all four done
// (pinned kernels aside).
//  0. negative entries: losing one costs one hub request, if that kernel is
//     asked for again before it would have expired; anyone who can ask for a
//     made-up kernel makes one, so they never push out anything that answers.
//  1. remembered objects: they only let a later Prefetch pre-minimize a new
//     kernel; every GetBtf sends its objects again (and remembers them again),
//     so losing one costs at most one minimization on a future kernel. They
//     are also what one client can send in bulk (each uid's are bounded by
//     Options::remembered_*_per_uid): evicting them first means one user's
//     objects can push out only remembered objects, never the minimized
//     results other users' calls are answered from.
//  2. minimized results: recomputed from a cached kernel in milliseconds.
//  3. full kernels (which may need the network again). Pinned kernels never go.
constexpr const char* kVictims[] = {
    "SELECT rowid, '' FROM negative ORDER BY rowid LIMIT ?1",
    "SELECT rowid, digest FROM objects ORDER BY last_requested, rowid LIMIT ?1",
    "SELECT rowid, digest FROM minimized ORDER BY last_used, rowid LIMIT ?1",
    "SELECT rowid, digest FROM kernels WHERE pinned = 0 ORDER BY last_used, rowid LIMIT ?1",
};
constexpr const char* kDelete[] = {
    "DELETE FROM negative WHERE rowid = ?1",
    "DELETE FROM objects WHERE rowid = ?1",
    "DELETE FROM minimized WHERE rowid = ?1",
    "DELETE FROM kernels WHERE rowid = ?1",
};

}  // namespace

void Store::unlink_retired(const std::vector<std::string>& paths) {
  for (const auto& p : paths) ::unlink(p.c_str());
}

Status Store::release_row_if_unreferenced_locked(const std::string& hex,
                                                std::vector<std::pair<std::string, uint64_t>>* released) {
  {
    BTFD_TRY(Stmt q, db_.prepare(kReferencedSql));
    BTFD_TRY(bool row, q.bind(1, hex).step());
    if (!row || q.int64(0) != 0) return {};
  }
  uint64_t size = 0;
  {
    BTFD_TRY(Stmt q, db_.prepare("SELECT size FROM blobs WHERE digest = ?1"));
    BTFD_TRY(bool row, q.bind(1, hex).step());
    if (!row) return {};
    size = static_cast<uint64_t>(q.int64(0));
  }
  BTFD_TRY(Stmt del, db_.prepare("DELETE FROM blobs WHERE digest = ?1"));
  BTFD_TRY_VOID(del.bind(1, hex).run());
  released->emplace_back(hex, size);
  return {};
}

void Store::release_if_unreferenced_locked(const std::vector<std::string>& hexes, std::vector<std::string>* retired) {
  std::vector<std::pair<std::string, uint64_t>> released;
  Status st = [&]() -> Status {
    BTFD_TRY(Transaction tx, Transaction::begin(db_));
    for (const auto& hex : hexes) BTFD_TRY_VOID(release_row_if_unreferenced_locked(hex, &released));
    return tx.commit();
  }();
  if (!st) return;  // the blobs stay; a later gc sweeps them
  // Rows are gone (committed): now the files, renamed away under the lock so a
  // concurrent publish of the same content cannot be unlinked by mistake.
  for (const auto& [hex, size] : released) {
    verified_.erase(hex);
    remembered_.erase(hex);
    if (auto d = digest_from_hex(hex)) {
      if (std::string p = blobs_.retire(*d); !p.empty()) retired->push_back(std::move(p));
    }
  }
}

void Store::gc_if_over_budget() {
  bool over;
  {
    std::lock_guard lock(mu_);
    auto used = used_locked();
    over = used && *used > opts_.budget_bytes;
  }
  if (over) (void)gc();
}

// Deletes blob rows (and files) that no kernel, minimized or object row names.
// Rows go first (committed), files after: a crash in between leaves orphans
// that the next open removes.
Result<GcReport> Store::sweep_unreferenced_locked(size_t limit, std::vector<std::string>* retired) {
  GcReport r;
  std::vector<std::pair<std::string, uint64_t>> dead;
  {
    BTFD_TRY(Stmt s, db_.prepare(
                         "SELECT b.digest, b.size FROM blobs b WHERE "
                         "NOT EXISTS(SELECT 1 FROM kernels WHERE digest = b.digest) AND "
                         "NOT EXISTS(SELECT 1 FROM minimized WHERE digest = b.digest) AND "
                         "NOT EXISTS(SELECT 1 FROM objects WHERE digest = b.digest) LIMIT ?1"));
    s.bind(1, static_cast<int64_t>(limit));
    for (;;) {
      BTFD_TRY(bool row, s.step());
      if (!row) break;
      dead.emplace_back(s.text(0), static_cast<uint64_t>(s.int64(1)));
    }
  }
  if (dead.empty()) return r;
  BTFD_TRY(uint64_t before, used_locked());
  uint64_t after = before;
  {
    BTFD_TRY(Transaction tx, Transaction::begin(db_));
    for (const auto& [hex, size] : dead) {
      BTFD_TRY(Stmt s, db_.prepare("DELETE FROM blobs WHERE digest = ?1"));
      BTFD_TRY_VOID(s.bind(1, hex).run());
    }
    BTFD_TRY(after, used_locked());
    BTFD_TRY_VOID(tx.commit());
  }
  for (const auto& [hex, size] : dead) {
    if (auto d = digest_from_hex(hex)) {
      if (std::string p = blobs_.retire(*d); !p.empty()) retired->push_back(std::move(p));
    }
    verified_.erase(hex);
    remembered_.erase(hex);
    ++r.removed_blobs;
  }
  r.freed_bytes = before - std::min(before, after);
  return r;
}

Result<GcReport> Store::evict_batch_locked(size_t tier, uint64_t budget, bool* done,
                                           std::vector<std::string>* retired) {
  GcReport r;
  *done = true;
  BTFD_TRY(uint64_t used, used_locked());
  if (used <= budget) return r;
  std::vector<std::pair<int64_t, std::string>> victims;
  {
    BTFD_TRY(Stmt s, db_.prepare(kVictims[tier]));
    s.bind(1, static_cast<int64_t>(kGcBatch));
    for (;;) {
      BTFD_TRY(bool row, s.step());
      if (!row) break;
      victims.emplace_back(s.int64(0), s.text(1));
    }
  }
  if (victims.empty()) return r;
  std::vector<std::pair<std::string, uint64_t>> released;
  const uint64_t before = used;
  {
    BTFD_TRY(Transaction tx, Transaction::begin(db_));
    for (const auto& [rowid, hex] : victims) {
      if (used <= budget) break;
      BTFD_TRY(Stmt del, db_.prepare(kDelete[tier]));
      BTFD_TRY_VOID(del.bind(1, rowid).run());
      ++r.removed_entries;
      if (!hex.empty()) BTFD_TRY_VOID(release_row_if_unreferenced_locked(hex, &released));
      // The totals (triggers) already count this transaction's deletes.
      BTFD_TRY(used, used_locked());
    }
    BTFD_TRY_VOID(tx.commit());
  }
  forget_hits_locked();  // a remembered hit may name a row just deleted
  for (const auto& [hex, size] : released) {
    verified_.erase(hex);
    remembered_.erase(hex);
    ++r.removed_blobs;
    if (auto d = digest_from_hex(hex)) {
      if (std::string p = blobs_.retire(*d); !p.empty()) retired->push_back(std::move(p));
    }
  }
  r.freed_bytes = before - std::min(before, used);
  *done = used <= budget || victims.size() < kGcBatch;
  return r;
}

Result<GcReport> Store::gc(uint64_t budget_override) {
  auto r = gc_batches(budget_override);
  if (!r) return disk_error(std::move(r).error());
  return r;
}

Result<GcReport> Store::gc_batches(uint64_t budget_override) {
  uint64_t budget = budget_override ? budget_override : opts_.budget_bytes;
  std::lock_guard serial(gc_mu_);
  GcReport total;
  auto add = [&](const GcReport& r) {
    total.removed_entries += r.removed_entries;
    total.removed_blobs += r.removed_blobs;
    total.freed_bytes += r.freed_bytes;
  };
  {
    std::lock_guard lock(mu_);
    BTFD_TRY_VOID(heal_if_damaged_locked());
    forget_hits_locked();
    BTFD_TRY_VOID(flush_touches_locked());  // eviction order needs current last_used
    BTFD_TRY(Stmt s, db_.prepare("DELETE FROM negative WHERE retry_after <= ?1"));
    BTFD_TRY_VOID(s.bind(1, now_()).run());
  }
  // Each step below holds the lock for one transaction of at most kGcBatch
  // rows; the files it retired are unlinked after the lock is released.
  for (;;) {
    std::vector<std::string> retired;
    GcReport r;
    {
      std::lock_guard lock(mu_);
      BTFD_TRY(r, sweep_unreferenced_locked(kGcBatch, &retired));
    }
    unlink_retired(retired);
    add(r);
    if (r.removed_blobs < kGcBatch) break;
  }
  for (size_t tier = 0; tier < std::size(kVictims); ++tier) {
    for (bool done = false; !done;) {
      std::vector<std::string> retired;
      GcReport r;
      {
        std::lock_guard lock(mu_);
        BTFD_TRY(r, evict_batch_locked(tier, budget, &done, &retired));
      }
      unlink_retired(retired);
      add(r);
    }
  }
  // Only pinned kernels can be left: every other tier was emptied if need be.
  std::lock_guard lock(mu_);
  BTFD_TRY(uint64_t used, used_locked());
  total.over_budget = used > budget ? used - budget : 0;
  return total;
}

}  // namespace btfd::store
