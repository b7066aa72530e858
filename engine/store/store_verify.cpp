// SPDX-License-Identifier: GPL-2.0-or-later
// Blob verification: hash on first use, re-hash when the file changed on disk
// (its stamp differs from the one it had when hashed), and on demand for the
// whole cache. Hashing always happens outside the store's lock.
#include <sys/stat.h>

#include <algorithm>

#include "store/store.hpp"

namespace btfd::store {

bool Store::stamp_verified_locked(const std::string& hex, const FileStamp& stamp) const {
  auto it = verified_.find(hex);
  return it != verified_.end() && it->second == stamp;
}

bool Store::still_same_blob_locked(const Digest& d, const std::optional<FileStamp>& seen) {
  {
    auto q = db_.prepare("SELECT 1 FROM blobs WHERE digest = ?1");
    if (!q) return false;
    auto row = q->bind(1, to_hex(d)).step();
    if (!row || !*row) return false;  // already gone (evicted or dropped meanwhile)
  }
  struct stat st {};
  bool present = ::stat(blobs_.path_of(d).c_str(), &st) == 0;
  if (!seen) return !present;
  return present && stamp_from(st).dev == seen->dev && stamp_from(st).ino == seen->ino;
}

void Store::drop_invalid(const Digest& d) {
  Lock lock = lock_for(false);
  drop_corrupt_locked(to_hex(d));
}

void Store::drop_corrupt_locked(const std::string& hex) {
  forget_hits_locked();
  ++counters_.corrupt_blobs;
  // One transaction: one fsync, and no half-dropped blob.
  Status st = [&]() -> Status {
    BTFD_TRY(Transaction tx, Transaction::begin(db_));
    for (const char* sql : {"DELETE FROM kernels WHERE digest = ?1", "DELETE FROM minimized WHERE digest = ?1",
                            "DELETE FROM objects WHERE digest = ?1", "DELETE FROM blobs WHERE digest = ?1"}) {
      BTFD_TRY(Stmt s, db_.prepare(sql));
      BTFD_TRY_VOID(s.bind(1, hex).run());
    }
    return tx.commit();
  }();
  verified_.erase(hex);
  remembered_.erase(hex);
  if (!st) return;  // rows stay; the file stays unverified and is checked again on its next use
  if (auto d = digest_from_hex(hex)) (void)blobs_.remove(*d);
}

// Opens a blob, hashing it unless it was hashed since open() and its file has
// not changed since.
Result<Blob> Store::open_verified(const Digest& d, uint64_t size, bool verified_only) {
  std::string hex = to_hex(d);
  auto busy = [&] { return make_error(Errc::busy, "blob " + hex + " is not verified yet"); };
  auto fd = blobs_.open(d);
  if (!fd && fd.error().code != Errc::not_found) return std::move(fd).error();
  bool corrupt = !fd;
  std::optional<FileStamp> seen;
  if (fd) {
    BTFD_TRY(FileStamp stamp, stamp_of(fd->get()));
    seen = stamp;
    corrupt = static_cast<uint64_t>(stamp.size) != size;
    if (!corrupt) {
      bool known;
      {
        Lock lock = lock_for(verified_only);
        if (!lock.owns_lock()) return busy();
        known = stamp_verified_locked(hex, stamp);
      }
      if (!known && verified_only) return busy();
      if (!known) {
        BTFD_TRY(Digest got, sha256_fd(fd->get()));
        BTFD_TRY(FileStamp after, stamp_of(fd->get()));
        // Changed while it was being hashed: what was hashed is not what is there.
        corrupt = got != d || !(after == stamp);
      }
    }
  }
  Lock lock = lock_for(verified_only);
  if (!lock.owns_lock()) return busy();
  if (corrupt) {
    // A concurrent put may have replaced the damaged file with good content.
    if (still_same_blob_locked(d, seen)) drop_corrupt_locked(hex);
    return make_error(Errc::corrupt, "blob " + hex + " failed verification and was dropped");
  }
  verified_[hex] = *seen;
  return Blob{std::move(fd).value(), blobs_.path_of(d), d, size};
}

Result<VerifyReport> Store::verify_all() {
  VerifyReport report;
  {
    std::lock_guard lock(mu_);
    BTFD_TRY_VOID(heal_if_damaged_locked());
  }
  std::string after;  // digests are walked in order, a batch at a time
  for (;;) {
    std::vector<std::pair<Digest, uint64_t>> batch;
    {
      std::lock_guard lock(mu_);
      BTFD_TRY(Stmt s, db_.prepare("SELECT digest, size FROM blobs WHERE digest > ?1 ORDER BY digest LIMIT ?2"));
      s.bind(1, after).bind(2, static_cast<int64_t>(kGcBatch));
      for (;;) {
        BTFD_TRY(bool row, s.step());
        if (!row) break;
        after = s.text(0);
        auto d = digest_from_hex(after);
        if (d) batch.emplace_back(*d, static_cast<uint64_t>(s.int64(1)));
      }
    }
    if (batch.empty()) break;
    for (const auto& [d, size] : batch) {
      ++report.checked;
      std::optional<FileStamp> seen;
      bool corrupt = true;
      auto fd = blobs_.open(d);
      if (!fd && fd.error().code != Errc::not_found) return std::move(fd).error();
      if (fd) {
        BTFD_TRY(FileStamp stamp, stamp_of(fd->get()));
        seen = stamp;
        if (static_cast<uint64_t>(stamp.size) == size) {
          BTFD_TRY(Digest got, sha256_fd(fd->get()));
          BTFD_TRY(FileStamp again, stamp_of(fd->get()));
          report.bytes += size;
          corrupt = got != d || !(again == stamp);
        }
      }
      std::lock_guard lock(mu_);
      if (!corrupt) {
        verified_[to_hex(d)] = *seen;
      } else if (still_same_blob_locked(d, seen)) {
        drop_corrupt_locked(to_hex(d));
        ++report.corrupt;
      }
    }
    if (batch.size() < kGcBatch) break;
  }
  return report;
}

}  // namespace btfd::store
