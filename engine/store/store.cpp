// SPDX-License-Identifier: GPL-2.0-or-later
#include "store/store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "store/index_file.hpp"
#include "store/schema.hpp"

namespace btfd::store {
namespace {

int64_t wall_clock() { return static_cast<int64_t>(::time(nullptr)); }

}  // namespace

const char* source_name(Source s) {
  switch (s) {
    case Source::native: return "native";
    case Source::hub: return "hub";
    case Source::file: return "file";
    case Source::debuginfo: return "debuginfo";
  }
  return "?";
}

Result<Source> parse_source(std::string_view s) {
  if (s == "native") return Source::native;
  if (s == "hub") return Source::hub;
  if (s == "file") return Source::file;
  if (s == "debuginfo") return Source::debuginfo;
  return make_error(Errc::corrupt, "unknown source \"" + std::string(s) + "\" in the cache index");
}

std::string objects_key(std::vector<Digest>& objects) {
  std::sort(objects.begin(), objects.end());
  objects.erase(std::unique(objects.begin(), objects.end()), objects.end());
  Sha256 h;
  for (const Digest& d : objects) h.update(std::span<const uint8_t>(d));
  return to_hex(h.finish());
}

static std::string join_digests(const std::vector<Digest>& ds) {
  std::string out;
  for (const Digest& d : ds) {
    if (!out.empty()) out += ',';
    out += to_hex(d);
  }
  return out;
}

Store::Store(Options opts, Db db)
    : opts_(std::move(opts)), blobs_(opts_.dir + "/blobs"), db_(std::move(db)), now_(wall_clock) {
  counters_.budget = opts_.budget_bytes;
}

Store::~Store() {
  std::lock_guard lock(mu_);
  (void)flush_touches_locked();
}

Store::Lock Store::lock_for(bool nonblocking) {
  if (!nonblocking) return Lock(mu_);
  return Lock(mu_, kLoopLockWait);
}

Result<std::unique_ptr<Store>> Store::open(const Options& opts) {
  if (opts.dir.empty()) return make_error(Errc::invalid_argument, "cache directory is not set");
  BTFD_TRY_VOID(mkdir_p(opts.dir, 0755));
  BTFD_TRY_VOID(mkdir_p(opts.dir + "/blobs", 0755));
  BTFD_TRY(OpenedIndex index, open_index(opts.dir, wall_clock()));
  std::unique_ptr<Store> s(new Store(opts, std::move(index.db)));
  std::lock_guard lock(s->mu_);
  if (!index.repaired.empty()) {
    ++s->counters_.index_rebuilt;
    s->counters_.index_note = std::move(index.repaired);
  }
  Status st = s->recover_locked();
  // quick_check reads every page but checks no index against its table:
  // damage it missed shows here, and gets the same treatment.
  if (!st && s->db_.damaged()) st = s->rebuild_index_locked(st.error().message);
  if (!st) return std::move(st).error();
  return s;
}

Status Store::heal_if_damaged_locked() {
  if (!db_.is_open()) {
    // A rebuild that could not open the fresh index (e.g. disk full): try again.
    BTFD_TRY(OpenedIndex index, open_index(opts_.dir, now_()));
    db_ = std::move(index.db);
    return recover_locked();
  }
  if (!db_.damaged()) return {};
  return rebuild_index_locked("a query found it damaged");
}

Status Store::rebuild_index_locked(const std::string& why) {
  db_ = Db();  // closed before its files move
  forget_hits_locked();
  verified_.clear();
  remembered_.clear();
  touches_.clear();
  BTFD_TRY(std::string aside, move_index_aside(opts_.dir, now_()));
  BTFD_TRY(OpenedIndex index, open_index(opts_.dir, now_()));
  db_ = std::move(index.db);
  ++counters_.index_rebuilt;
  counters_.index_note = "cache index \"" + opts_.dir + "/" + kIndexName + "\" was damaged (" + why +
                         "); moved to \"" + aside + "\" and rebuilt empty";
  return recover_locked();
}

// Removes what a crash can leave behind: temp files, rows whose blob is missing
// or has the wrong size (and rows that depended on them), unreferenced blobs.
Status Store::recover_locked() {
  BTFD_TRY(auto temps, blobs_.list_temps());
  for (const auto& t : temps) {
    std::string p = blobs_.dir() + "/" + t;
    if (::unlink(p.c_str()) == 0) ++counters_.recovered_temps;
  }
  std::vector<std::string> bad;
  {
    BTFD_TRY(Stmt s, db_.prepare("SELECT digest, size FROM blobs"));
    for (;;) {
      BTFD_TRY(bool row, s.step());
      if (!row) break;
      std::string hex = s.text(0);
      struct stat st {};
      std::string p = blobs_.dir() + "/" + hex;
      if (!is_hex_digest(hex) || ::stat(p.c_str(), &st) < 0 || static_cast<int64_t>(st.st_size) != s.int64(1))
        bad.push_back(hex);
    }
  }
  // Rows naming a blob that the blobs table does not know are dangling too.
  {
    BTFD_TRY(Stmt s, db_.prepare(
                         "SELECT digest FROM kernels WHERE digest NOT IN (SELECT digest FROM blobs) UNION "
                         "SELECT digest FROM minimized WHERE digest NOT IN (SELECT digest FROM blobs) UNION "
                         "SELECT digest FROM objects WHERE digest NOT IN (SELECT digest FROM blobs)"));
    for (;;) {
      BTFD_TRY(bool row, s.step());
      if (!row) break;
      bad.push_back(s.text(0));
    }
  }
  if (!bad.empty()) {
    BTFD_TRY(Transaction tx, Transaction::begin(db_));
    for (const auto& hex : bad) {
      for (const char* sql : {"DELETE FROM kernels WHERE digest = ?1", "DELETE FROM minimized WHERE digest = ?1",
                              "DELETE FROM objects WHERE digest = ?1", "DELETE FROM blobs WHERE digest = ?1"}) {
        BTFD_TRY(Stmt s, db_.prepare(sql));
        BTFD_TRY_VOID(s.bind(1, hex).run());
        counters_.recovered_rows += static_cast<uint64_t>(sqlite3_changes(db_.raw()));
      }
    }
    BTFD_TRY_VOID(tx.commit());
  }
  // Nothing else runs yet (or, for a rebuild, waits): files go at once.
  for (;;) {
    std::vector<std::string> retired;
    BTFD_TRY(GcReport swept, sweep_unreferenced_locked(1024, &retired));
    for (const auto& p : retired) ::unlink(p.c_str());
    counters_.recovered_orphans += swept.removed_blobs;
    if (swept.removed_blobs < 1024) break;
  }
  // Blob files present on disk that the index does not name at all.
  BTFD_TRY(auto files, blobs_.list_blobs());
  for (const auto& hex : files) {
    BTFD_TRY(Stmt q, db_.prepare("SELECT 1 FROM blobs WHERE digest = ?1"));
    BTFD_TRY(bool row, q.bind(1, hex).step());
    if (!row) {
      auto d = digest_from_hex(hex);
      if (d && blobs_.remove(*d).ok()) ++counters_.recovered_orphans;
    }
  }
  last_flush_ = now_();
  return {};
}

void Store::note_touch_locked(std::string key, int64_t when, bool may_flush) {
  constexpr size_t kMaxTouches = 4096;
  if (!may_flush) {
    // The event loop never writes: past the bound the touch is lost (last_used
    // goes stale by at most the daemon's one-second flush period).
    if (touches_.size() < kMaxTouches || touches_.count(key)) touches_[std::move(key)] = when;
    return;
  }
  touches_[std::move(key)] = when;
  // Bounded memory and bounded staleness; the daemon also flushes every second
  // from a worker, so lookups rarely pay for the write themselves.
  if (touches_.size() >= kMaxTouches || when - last_flush_ >= 60) (void)flush_touches_locked();
}

Status Store::flush_touches_locked() {
  if (touches_.empty()) return {};
  BTFD_TRY(Transaction tx, Transaction::begin(db_));
  for (const auto& [key, when] : touches_) {
    std::vector<std::string> f;
    for (size_t pos = 0;;) {
      size_t sep = key.find('\x1f', pos);
      f.push_back(key.substr(pos, sep == std::string::npos ? std::string::npos : sep - pos));
      if (sep == std::string::npos) break;
      pos = sep + 1;
    }
    if (f[0] == "k" && f.size() == 5) {
      BTFD_TRY(Stmt u, db_.prepare(
                           "UPDATE kernels SET last_used=?5 WHERE distro=?1 AND version=?2 AND arch=?3 AND release=?4"));
      BTFD_TRY_VOID(u.bind(1, f[1]).bind(2, f[2]).bind(3, f[3]).bind(4, f[4]).bind(5, when).run());
    } else if (f[0] == "m" && f.size() == 3) {
      BTFD_TRY(Stmt u, db_.prepare("UPDATE minimized SET last_used=?3 WHERE kernel_digest=?1 AND objects_key=?2"));
      BTFD_TRY_VOID(u.bind(1, f[1]).bind(2, f[2]).bind(3, when).run());
    } else if (f[0] == "o" && f.size() == 2) {
      BTFD_TRY(Stmt u, db_.prepare("UPDATE objects SET last_requested=?2 WHERE digest=?1"));
      BTFD_TRY_VOID(u.bind(1, f[1]).bind(2, when).run());
    }
  }
  BTFD_TRY_VOID(tx.commit());
  touches_.clear();
  last_flush_ = now_();
  return {};
}

Result<PendingBlob> Store::begin_blob() {
  auto b = blobs_.create_temp();
  if (!b) return disk_error(std::move(b).error());
  return b;
}

Error Store::disk_error(Error e) const {
  if (e.code != Errc::no_space) return e;
  return std::move(e).wrap("the cache directory \"" + opts_.dir + "\" is full (no space left on its disk)");
}

Result<uint64_t> Store::used_locked() {
  BTFD_TRY(Stmt s, db_.prepare("SELECT blob_bytes + row_bytes FROM totals"));
  BTFD_TRY(bool row, s.step());
  if (!row) return make_error(Errc::corrupt, "the cache index has no totals row");
  return static_cast<uint64_t>(std::max<int64_t>(s.int64(0), 0));
}

Status Store::register_blob_locked(const Published& p) {
  std::string hex = to_hex(p.digest);
  // gc retires files under this lock: a file published just before it was
  // retired (identical content being evicted) is gone, and a row must not
  // name it. Another put of the same content may have replaced it instead;
  // that file is fine but was hashed by the other put, which records it.
  struct stat st {};
  std::string path = blobs_.path_of(p.digest);
  if (::stat(path.c_str(), &st) < 0)
    return make_error(Errc::busy, "blob " + hex + " was evicted while it was being stored; try again");
  BTFD_TRY(Stmt s, db_.prepare("INSERT OR IGNORE INTO blobs(digest, size) VALUES (?1, ?2)"));
  BTFD_TRY_VOID(s.bind(1, hex).bind(2, static_cast<int64_t>(p.size)).run());
  // Content we just hashed ourselves needs no verification on first use.
  if (stamp_from(st) == p.stamp) verified_[hex] = p.stamp;
  return {};
}

Result<KernelEntry> Store::commit_kernel(PendingBlob&& blob, const KernelIdentity& id, Source source,
                                         std::string origin, bool pin, const Digest* hashed) {
  BTFD_TRY_VOID(validate_identity(id));
  struct stat pending {};
  // Its rows' bytes, as schema 6 counts them, with the blob's.
  uint64_t rows = kBlobRowBytes + 2 * (id.distro_id.size() + id.distro_version.size() + id.arch.size() +
                                       id.release.size() + 64) + 8 + origin.size() + kRowOverhead;
  if (::fstat(blob.fd(), &pending) == 0)
    BTFD_TRY_VOID(fits_budget(static_cast<uint64_t>(pending.st_size) + rows, "the BTF of " + id.to_string()));
  auto published = blobs_.publish(std::move(blob), hashed);
  if (!published) return disk_error(std::move(published).error());
  Published p = *published;
  KernelEntry e{id, source, std::move(origin), p.digest, p.size, now_(), now_(), pin};
  std::vector<std::string> retired;
  {
    std::lock_guard lock(mu_);
    std::string old_hex;
    Status st = [&]() -> Status {
      BTFD_TRY(Transaction tx, Transaction::begin(db_));
      BTFD_TRY(Stmt old, db_.prepare(
                             "SELECT digest FROM kernels WHERE distro=?1 AND version=?2 AND arch=?3 AND release=?4"));
      BTFD_TRY(bool had, old.bind(1, id.distro_id).bind(2, id.distro_version).bind(3, id.arch).bind(4, id.release).step());
      if (had) old_hex = old.text(0);
      BTFD_TRY_VOID(register_blob_locked(p));
      BTFD_TRY(Stmt s, db_.prepare(
                           "INSERT OR REPLACE INTO kernels(distro, version, arch, release, source, origin, "
                           "digest, fetched_at, last_used, pinned) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"));
      BTFD_TRY_VOID(s.bind(1, id.distro_id).bind(2, id.distro_version).bind(3, id.arch).bind(4, id.release)
                        .bind(5, source_name(source)).bind(6, e.origin).bind(7, to_hex(p.digest))
                        .bind(8, e.fetched_at).bind(9, e.last_used).bind(10, int64_t{pin})
                        .run());
      BTFD_TRY(Stmt n, db_.prepare(
                           "DELETE FROM negative WHERE distro=?1 AND version=?2 AND arch=?3 AND release=?4"));
      BTFD_TRY_VOID(n.bind(1, id.distro_id).bind(2, id.distro_version).bind(3, id.arch).bind(4, id.release).run());
      return tx.commit();
    }();
    if (!st) {
      release_if_unreferenced_locked({to_hex(p.digest)}, &retired);
      unlink_retired(retired);
      return disk_error(std::move(st).error().wrap("cannot record kernel " + id.to_string()));
    }
    forget_hits_locked();
    if (!old_hex.empty() && old_hex != to_hex(p.digest)) release_if_unreferenced_locked({old_hex}, &retired);
  }
  unlink_retired(retired);
  gc_if_over_budget();
  return e;
}

// An entry larger than the whole budget would only make eviction throw out
// everything else, itself last: refuse it and say which setting to raise.
Status Store::fits_budget(uint64_t size, const std::string& what) const {
  if (size <= opts_.budget_bytes) return {};
  return make_error(Errc::no_space, what + " is " + std::to_string(size) + " bytes, more than the whole cache budget (" +
                                        std::to_string(opts_.budget_bytes) + " bytes); raise [Cache] MaxSize=");
}

Result<KernelEntry> Store::put_kernel(const KernelIdentity& id, std::span<const uint8_t> btf, Source source,
                                      std::string origin, bool pin) {
  BTFD_TRY(PendingBlob b, begin_blob());
  if (auto st = write_all(b.fd(), btf); !st)
    return disk_error(std::move(st).error().wrap("cannot store kernel " + id.to_string()));
  return commit_kernel(std::move(b), id, source, std::move(origin), pin);
}

void Store::forget_hits_locked() {
  hit_memo_.clear();
  ++memo_gen_;
}

Result<std::optional<std::pair<KernelEntry, Blob>>> Store::find_kernel(const KernelIdentity& id, bool verified_only) {
  using Found = std::optional<std::pair<KernelEntry, Blob>>;
  auto busy = [] { return make_error(Errc::busy, "the cache is busy; look it up on a worker"); };
  std::string key = "k\x1f" + id.distro_id + "\x1f" + id.distro_version + "\x1f" + id.arch + "\x1f" + id.release;
  std::optional<KernelEntry> memo;
  std::optional<FileStamp> memo_stamp;
  {
    Lock lock = lock_for(verified_only);
    if (!lock.owns_lock()) return busy();
    if (auto it = hit_memo_.find(key); it != hit_memo_.end()) {
      memo = it->second;
      memo->last_used = now_();
      if (auto v = verified_.find(to_hex(memo->digest)); v != verified_.end()) memo_stamp = v->second;
      note_touch_locked(key, memo->last_used, !verified_only);
    }
  }
  if (memo) {
    // Served without hashing only while the file is the one that was hashed.
    if (auto fd = blobs_.open(memo->digest); fd && memo_stamp) {
      auto stamp = stamp_of(fd->get());
      if (stamp && *stamp == *memo_stamp && static_cast<uint64_t>(stamp->size) == memo->size) {
        Blob b{std::move(fd).value(), blobs_.path_of(memo->digest), memo->digest, memo->size};
        return Found(std::pair(std::move(*memo), std::move(b)));
      }
    }
    Lock lock = lock_for(verified_only);
    if (!lock.owns_lock()) return busy();
    hit_memo_.erase(key);  // the full path below re-checks (and drops a damaged blob)
  }
  KernelEntry e;
  uint64_t gen = 0;
  {
    Lock lock = lock_for(verified_only);
    if (!lock.owns_lock()) return busy();
    gen = memo_gen_;
    BTFD_TRY(Stmt s, db_.prepare(
                         "SELECT k.source, k.origin, k.digest, b.size, k.fetched_at, k.pinned FROM kernels k "
                         "JOIN blobs b ON b.digest = k.digest "
                         "WHERE k.distro=?1 AND k.version=?2 AND k.arch=?3 AND k.release=?4"));
    BTFD_TRY(bool row, s.bind(1, id.distro_id).bind(2, id.distro_version).bind(3, id.arch).bind(4, id.release).step());
    if (!row) return Found();
    BTFD_TRY(e.source, parse_source(s.text(0)));
    e.id = id;
    e.origin = s.text(1);
    BTFD_TRY(e.digest, digest_from_hex(s.text(2)));
    e.size = static_cast<uint64_t>(s.int64(3));
    e.fetched_at = s.int64(4);
    e.pinned = s.int64(5) != 0;
    e.last_used = now_();
    note_touch_locked(key, e.last_used, !verified_only);
  }
  auto blob = open_verified(e.digest, e.size, verified_only);
  if (!blob) {
    if (blob.error().code == Errc::corrupt) return Found();
    return std::move(blob).error();
  }
  {
    // Remembering is an optimisation: skipped if the lock is contended.
    Lock lock = lock_for(verified_only);
    if (lock.owns_lock() && gen == memo_gen_) hit_memo_[key] = e;  // else a write came in between: do not remember a stale row
  }
  return Found(std::pair(std::move(e), std::move(blob).value()));
}

Result<Blob> Store::put_minimized(const Digest& kernel, std::vector<Digest> objects, std::span<const uint8_t> btf,
                                  std::string report_json) {
  std::string key = objects_key(objects);
  if (report_json.size() > kMaxReportBytes) report_json.clear();  // not kept (store.hpp)
  std::string joined = join_digests(objects);
  BTFD_TRY_VOID(fits_budget(btf.size() + kBlobRowBytes + minimized_row_bytes(joined.size(), report_json.size()),
                            "the minimized BTF"));
  auto written = blobs_.write(btf);
  if (!written) return disk_error(std::move(written).error());
  Published p = *written;
  UniqueFd fd;
  {
    std::lock_guard lock(mu_);
    Status st = [&]() -> Status {
      BTFD_TRY(Transaction tx, Transaction::begin(db_));
      BTFD_TRY_VOID(register_blob_locked(p));
      BTFD_TRY(Stmt s, db_.prepare(
                           "INSERT OR REPLACE INTO minimized(kernel_digest, objects_key, objects, digest, report, "
                           "created_at, last_used) VALUES (?1,?2,?3,?4,?5,?6,?6)"));
      BTFD_TRY_VOID(s.bind(1, to_hex(kernel)).bind(2, key).bind(3, joined).bind(4, to_hex(p.digest))
                        .bind(5, report_json).bind(6, now_()).run());
      return tx.commit();
    }();
    if (!st) {
      std::vector<std::string> retired;
      release_if_unreferenced_locked({to_hex(p.digest)}, &retired);
      unlink_retired(retired);
      return disk_error(std::move(st).error().wrap("cannot record minimized BTF"));
    }
    // Opened before the lock is released: a gc (this call's below, or another
    // thread's) may evict the entry at once, and the caller still gets its answer.
    BTFD_TRY(UniqueFd opened, blobs_.open(p.digest));
    fd = std::move(opened);
  }
  gc_if_over_budget();
  return Blob{std::move(fd), blobs_.path_of(p.digest), p.digest, p.size};
}

Result<uint64_t> Store::put_minimized_many(const std::vector<std::span<const uint8_t>>& btfs,
                                           std::vector<MinimizedRow> rows, const std::string& report_json) {
  // Not kept when too large (store.hpp), as put_minimized.
  std::string_view report = report_json.size() > kMaxReportBytes ? std::string_view() : std::string_view(report_json);
  uint64_t total = 0;
  for (const auto& r : rows) {
    if (r.blob >= btfs.size()) return make_error(Errc::invalid_argument, "minimized row names no blob");
    // An object list is 65 bytes a digest (its hex and a comma).
    total += minimized_row_bytes(65 * r.objects.size(), report.size());
  }
  for (const auto& b : btfs) total += b.size() + kBlobRowBytes;
  BTFD_TRY_VOID(fits_budget(total, "the minimized BTFs"));
  std::vector<Published> published;
  std::vector<std::string> hexes;
  auto release = [&] {
    std::vector<std::string> retired;
    {
      std::lock_guard lock(mu_);
      release_if_unreferenced_locked(hexes, &retired);
    }
    unlink_retired(retired);
  };
  for (const auto& b : btfs) {
    auto p = blobs_.write(b);
    if (!p) {
      release();
      return disk_error(std::move(p).error());
    }
    hexes.push_back(to_hex(p->digest));
    published.push_back(*p);
  }
  {
    std::lock_guard lock(mu_);
    Status st = [&]() -> Status {
      BTFD_TRY(Transaction tx, Transaction::begin(db_));
      for (const auto& p : published) BTFD_TRY_VOID(register_blob_locked(p));
      for (auto& r : rows) {
        std::string key = objects_key(r.objects);
        // Prepared once (the Db caches it); released and reset per row.
        BTFD_TRY(Stmt s, db_.prepare(
                             "INSERT OR REPLACE INTO minimized(kernel_digest, objects_key, objects, digest, report, "
                             "created_at, last_used) VALUES (?1,?2,?3,?4,?5,?6,?6)"));
        BTFD_TRY_VOID(s.bind(1, to_hex(r.kernel)).bind(2, key).bind(3, join_digests(r.objects))
                          .bind(4, hexes[r.blob]).bind(5, report).bind(6, now_()).run());
      }
      return tx.commit();
    }();
    if (!st) {
      std::vector<std::string> retired;
      release_if_unreferenced_locked(hexes, &retired);
      unlink_retired(retired);  // an error path
      return disk_error(std::move(st).error().wrap("cannot record minimized BTFs"));
    }
  }
  gc_if_over_budget();
  return static_cast<uint64_t>(rows.size());
}

Result<std::optional<Store::MinimizedHit>> Store::find_minimized(const Digest& kernel, std::vector<Digest> objects) {
  using Found = std::optional<MinimizedHit>;
  std::string key = objects_key(objects);
  Digest d{};
  uint64_t size = 0;
  std::string report;
  {
    std::lock_guard lock(mu_);
    BTFD_TRY(Stmt s, db_.prepare(
                         "SELECT m.digest, b.size, m.report FROM minimized m JOIN blobs b ON b.digest = m.digest "
                         "WHERE m.kernel_digest=?1 AND m.objects_key=?2"));
    BTFD_TRY(bool row, s.bind(1, to_hex(kernel)).bind(2, key).step());
    if (!row) return Found();
    BTFD_TRY(d, digest_from_hex(s.text(0)));
    size = static_cast<uint64_t>(s.int64(1));
    report = s.text(2);
    note_touch_locked("m\x1f" + to_hex(kernel) + "\x1f" + key, now_());
  }
  auto blob = open_verified(d, size);
  if (!blob) {
    if (blob.error().code == Errc::corrupt) return Found();
    return std::move(blob).error();
  }
  return Found(MinimizedHit{std::move(blob).value(), std::move(report)});
}

bool Store::touch_remembered(const Digest& digest, const std::string& name, int64_t uid) {
  // The warm path (an agent starting again, a fleet of one object): the
  // row holds all this already, so only its last_requested moves.
  std::string hex = to_hex(digest);
  std::lock_guard lock(mu_);
  auto it = remembered_.find(hex);
  int64_t now = now_();
  if (it == remembered_.end() || now - it->second.when >= 60 || (!name.empty() && name != it->second.name) ||
      (uid != kNoUid && uid != it->second.uid))
    return false;
  note_touch_locked("o\x1f" + hex, now);
  return true;
}

Result<bool> Store::touch_remembered_by(const Digest& digest, int64_t uid) {
  std::string hex = to_hex(digest);
  std::lock_guard lock(mu_);
  int64_t now = now_();
  if (auto it = remembered_.find(hex); it != remembered_.end() && (uid == kNoUid || it->second.uid == uid)) {
    note_touch_locked("o\x1f" + hex, now);
    return true;
  }
  BTFD_TRY(Stmt s, db_.prepare("SELECT uid FROM objects WHERE digest = ?1"));
  BTFD_TRY(bool row, s.bind(1, hex).step());
  if (!row || (uid != kNoUid && s.int64(0) != uid)) return false;
  note_touch_locked("o\x1f" + hex, now);
  return true;
}

Status Store::remember_object(const Digest& digest, std::span<const uint8_t> bytes, const std::string& name,
                              int64_t uid) {
  if (uid != kNoUid && bytes.size() > opts_.remembered_bytes_per_uid) return {};  // over the bound by itself
  if (touch_remembered(digest, name, uid)) return {};
  std::string hex = to_hex(digest);
  if (sha256(bytes) != digest) return make_error(Errc::invalid_argument, "object digest does not match its bytes");
  auto note_remembered = [&] {
    constexpr size_t kMaxRemembered = 4096;
    if (remembered_.size() >= kMaxRemembered) remembered_.clear();
    auto& r = remembered_[hex];
    if (!name.empty() || r.name.empty()) r.name = name;
    if (uid != kNoUid) r.uid = uid;
    r.when = now_();
  };
  // Rows forgotten over the uid's bound: deleted in the same transaction, their
  // files retired once it committed.
  auto finish = [&](std::vector<std::pair<std::string, uint64_t>>& released) {
    std::vector<std::string> retired;
    for (const auto& [h, size] : released) {
      verified_.erase(h);
      remembered_.erase(h);
      if (auto d = digest_from_hex(h)) {
        if (std::string path = blobs_.retire(*d); !path.empty()) retired.push_back(std::move(path));
      }
    }
    return retired;
  };
  bool have = false;
  std::vector<std::string> retired;
  {
    std::lock_guard lock(mu_);
    std::vector<std::pair<std::string, uint64_t>> released;
    Status st = [&]() -> Status {
      BTFD_TRY(Transaction tx, Transaction::begin(db_));
      BTFD_TRY(Stmt s, db_.prepare("UPDATE objects SET last_requested=?2, name=CASE WHEN ?3 = '' THEN name ELSE ?3 END, "
                                   "uid=CASE WHEN ?4 = -1 THEN uid ELSE ?4 END WHERE digest=?1"));
      BTFD_TRY_VOID(s.bind(1, hex).bind(2, now_()).bind(3, name).bind(4, uid).run());
      have = sqlite3_changes(db_.raw()) > 0;
      if (have) BTFD_TRY_VOID(enforce_object_quota_locked(uid, &released));
      return tx.commit();
    }();
    if (!st) return disk_error(std::move(st).error());
    retired = finish(released);
    if (have) note_remembered();
  }
  unlink_retired(retired);
  if (have) {
    gc_if_over_budget();  // a longer name may have taken it over
    return {};
  }
  auto written = blobs_.write(bytes);
  if (!written) return disk_error(std::move(written).error());
  Published p = *written;
  std::unique_lock lock(mu_);
  std::vector<std::pair<std::string, uint64_t>> released;
  Status st = [&]() -> Status {
    BTFD_TRY(Transaction tx, Transaction::begin(db_));
    BTFD_TRY_VOID(register_blob_locked(p));
    BTFD_TRY(Stmt s, db_.prepare("INSERT OR REPLACE INTO objects(digest, last_requested, name, uid) VALUES (?1, ?2, ?3, ?4)"));
    BTFD_TRY_VOID(s.bind(1, hex).bind(2, now_()).bind(3, name).bind(4, uid).run());
    BTFD_TRY_VOID(enforce_object_quota_locked(uid, &released));
    return tx.commit();
  }();
  if (!st) {
    std::vector<std::string> failed;
    release_if_unreferenced_locked({hex}, &failed);
    unlink_retired(failed);  // under the lock: an error path, one small file
    return disk_error(std::move(st).error());
  }
  retired = finish(released);
  note_remembered();
  lock.unlock();
  unlink_retired(retired);
  gc_if_over_budget();
  return {};
}

Status Store::enforce_object_quota_locked(int64_t uid, std::vector<std::pair<std::string, uint64_t>>* released) {
  if (uid == kNoUid) return {};
  // Newest first; everything past the first row that breaks a bound goes (the
  // same second is ordered by rowid: the later insert is the newer).
  std::vector<std::pair<int64_t, std::string>> victims;
  {
    BTFD_TRY(Stmt s, db_.prepare("SELECT o.rowid, o.digest, b.size FROM objects o JOIN blobs b ON b.digest = o.digest "
                                 "WHERE o.uid = ?1 ORDER BY o.last_requested DESC, o.rowid DESC"));
    s.bind(1, uid);
    uint64_t count = 0, bytes = 0;
    bool over = false;
    for (;;) {
      BTFD_TRY(bool row, s.step());
      if (!row) break;
      ++count;
      bytes += static_cast<uint64_t>(s.int64(2));
      over = over || count > opts_.remembered_per_uid || bytes > opts_.remembered_bytes_per_uid;
      if (over) victims.emplace_back(s.int64(0), s.text(1));
    }
  }
  for (const auto& [rowid, hex] : victims) {
    BTFD_TRY(Stmt del, db_.prepare("DELETE FROM objects WHERE rowid = ?1"));
    BTFD_TRY_VOID(del.bind(1, rowid).run());
    BTFD_TRY_VOID(release_row_if_unreferenced_locked(hex, released));
  }
  return {};
}

Result<uint64_t> Store::remembered_count(int64_t uid) {
  std::lock_guard lock(mu_);
  BTFD_TRY(Stmt s, db_.prepare("SELECT COUNT(*) FROM objects WHERE uid = ?1"));
  BTFD_TRY(bool row, s.bind(1, uid).step());
  return row ? static_cast<uint64_t>(s.int64(0)) : 0;
}

Status Store::for_each_recent_object(int64_t since_unix,
                                     const std::function<Status(const Digest&, std::vector<uint8_t>)>& fn) {
  // The list holds digests and sizes only (~100 bytes a row, rows bounded by
  // the per-uid quota); each object's bytes are read just before fn needs them.
  std::vector<std::pair<Digest, uint64_t>> rows;
  {
    std::lock_guard lock(mu_);
    BTFD_TRY(Stmt s, db_.prepare(
                         "SELECT o.digest, b.size FROM objects o JOIN blobs b ON b.digest = o.digest "
                         "WHERE o.last_requested >= ?1 ORDER BY o.digest"));
    s.bind(1, since_unix);
    for (;;) {
      BTFD_TRY(bool row, s.step());
      if (!row) break;
      BTFD_TRY(Digest d, digest_from_hex(s.text(0)));
      rows.emplace_back(d, static_cast<uint64_t>(s.int64(1)));
    }
  }
  for (const auto& [d, size] : rows) {
    auto blob = open_verified(d, size);
    if (!blob) continue;  // forgotten or dropped as corrupt since listed: remembered again when asked for
    BTFD_TRY(auto bytes, pread_all(blob->fd.get(), size));
    BTFD_TRY_VOID(fn(d, std::move(bytes)));
  }
  return {};
}

Result<std::vector<std::pair<Digest, std::vector<uint8_t>>>> Store::recent_objects(int64_t since_unix) {
  std::vector<std::pair<Digest, std::vector<uint8_t>>> out;
  BTFD_TRY_VOID(for_each_recent_object(since_unix, [&](const Digest& d, std::vector<uint8_t> bytes) -> Status {
    out.emplace_back(d, std::move(bytes));
    return {};
  }));
  return out;
}

Status Store::set_pinned(const KernelIdentity& id, bool pinned) {
  std::lock_guard lock(mu_);
  forget_hits_locked();
  BTFD_TRY(Stmt s, db_.prepare(
                       "UPDATE kernels SET pinned=?5 WHERE distro=?1 AND version=?2 AND arch=?3 AND release=?4"));
  BTFD_TRY_VOID(s.bind(1, id.distro_id).bind(2, id.distro_version).bind(3, id.arch).bind(4, id.release)
                    .bind(5, int64_t{pinned}).run());
  if (sqlite3_changes(db_.raw()) == 0) return make_error(Errc::not_found, "no cached kernel " + id.to_string());
  return {};
}

Result<Listing> Store::list() {
  std::lock_guard lock(mu_);
  // Read-only: last_used times not flushed yet are merged from memory.
  auto touched = [&](const std::string& key, int64_t stored) {
    auto it = touches_.find(key);
    return it == touches_.end() ? stored : std::max(stored, it->second);
  };
  Listing l;
  {
    BTFD_TRY(Stmt s, db_.prepare(
                         "SELECT k.distro, k.version, k.arch, k.release, k.source, k.origin, k.digest, b.size, "
                         "k.fetched_at, k.last_used, k.pinned FROM kernels k JOIN blobs b ON b.digest = k.digest "
                         "ORDER BY k.distro, k.version, k.arch, k.release"));
    for (;;) {
      BTFD_TRY(bool row, s.step());
      if (!row) break;
      KernelEntry e;
      e.id = {s.text(0), s.text(1), s.text(2), s.text(3)};
      BTFD_TRY(e.source, parse_source(s.text(4)));
      e.origin = s.text(5);
      BTFD_TRY(e.digest, digest_from_hex(s.text(6)));
      e.size = static_cast<uint64_t>(s.int64(7));
      e.fetched_at = s.int64(8);
      e.last_used = touched("k\x1f" + e.id.distro_id + "\x1f" + e.id.distro_version + "\x1f" + e.id.arch + "\x1f" +
                                e.id.release,
                            s.int64(9));
      e.pinned = s.int64(10) != 0;
      l.kernels.push_back(std::move(e));
    }
  }
  {
    BTFD_TRY(Stmt s, db_.prepare(
                         "SELECT m.kernel_digest, m.objects, m.digest, b.size, m.created_at, m.last_used, "
                         "m.objects_key FROM minimized m JOIN blobs b ON b.digest = m.digest ORDER BY m.last_used DESC"));
    for (;;) {
      BTFD_TRY(bool row, s.step());
      if (!row) break;
      MinimizedEntry e;
      BTFD_TRY(e.kernel, digest_from_hex(s.text(0)));
      std::string objs = s.text(1);
      for (size_t pos = 0; pos < objs.size();) {
        size_t comma = objs.find(',', pos);
        if (comma == std::string::npos) comma = objs.size();
        BTFD_TRY(Digest d, digest_from_hex(std::string_view(objs).substr(pos, comma - pos)));
        e.objects.push_back(d);
        pos = comma + 1;
      }
      BTFD_TRY(e.digest, digest_from_hex(s.text(2)));
      e.size = static_cast<uint64_t>(s.int64(3));
      e.created_at = s.int64(4);
      e.last_used = touched("m\x1f" + s.text(0) + "\x1f" + s.text(6), s.int64(5));
      l.minimized.push_back(std::move(e));
    }
  }
  {
    BTFD_TRY(Stmt s, db_.prepare(
                         "SELECT o.digest, b.size, o.last_requested, o.name FROM objects o "
                         "JOIN blobs b ON b.digest = o.digest ORDER BY o.last_requested DESC"));
    for (;;) {
      BTFD_TRY(bool row, s.step());
      if (!row) break;
      ObjectEntry e;
      BTFD_TRY(e.digest, digest_from_hex(s.text(0)));
      e.size = static_cast<uint64_t>(s.int64(1));
      e.last_requested = s.int64(2);
      e.name = s.text(3);
      l.objects.push_back(std::move(e));
    }
  }
  return l;
}

Status Store::flush_touches() {
  std::lock_guard lock(mu_);
  BTFD_TRY_VOID(heal_if_damaged_locked());
  Status st = flush_touches_locked();
  if (!st) return disk_error(std::move(st).error());
  return {};
}

Result<bool> Store::has_kernel(const KernelIdentity& id) {
  Lock lock = lock_for(true);
  if (!lock.owns_lock()) return make_error(Errc::busy, "the cache is busy");
  BTFD_TRY(Stmt s, db_.prepare("SELECT 1 FROM kernels WHERE distro=?1 AND version=?2 AND arch=?3 AND release=?4"));
  return s.bind(1, id.distro_id).bind(2, id.distro_version).bind(3, id.arch).bind(4, id.release).step();
}

Usage Store::usage() {
  std::lock_guard lock(mu_);
  Usage u = counters_;
  auto count = [&](const char* sql) -> uint64_t {
    auto s = db_.prepare(sql);
    if (!s) return 0;
    auto row = s->step();
    return row && *row ? static_cast<uint64_t>(s->int64(0)) : 0;
  };
  u.blob_bytes = count("SELECT blob_bytes FROM totals");
  u.row_bytes = count("SELECT row_bytes FROM totals");
  u.bytes = u.blob_bytes + u.row_bytes;
  u.pinned_bytes = count("SELECT COALESCE(SUM(b.size), 0) FROM blobs b WHERE EXISTS("
                         "SELECT 1 FROM kernels k WHERE k.digest = b.digest AND k.pinned != 0)");
  u.blobs = count("SELECT COUNT(*) FROM blobs");
  u.kernels = count("SELECT COUNT(*) FROM kernels");
  u.minimized = count("SELECT COUNT(*) FROM minimized");
  u.objects = count("SELECT COUNT(*) FROM objects");
  u.negative = count("SELECT COUNT(*) FROM negative");
  return u;
}

}  // namespace btfd::store
