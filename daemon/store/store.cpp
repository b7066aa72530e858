// SPDX-License-Identifier: GPL-2.0-or-later
#include "store/store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "store/schema.hpp"

namespace btfd::store {
namespace {

int64_t wall_clock() { return static_cast<int64_t>(::time(nullptr)); }

constexpr const char* kReferencedSql =
    "SELECT (SELECT COUNT(*) FROM kernels WHERE digest = ?1) + "
    "(SELECT COUNT(*) FROM minimized WHERE digest = ?1) + "
    "(SELECT COUNT(*) FROM objects WHERE digest = ?1)";

}  // namespace

const char* source_name(Source s) {
  switch (s) {
    case Source::native: return "native";
    case Source::hub: return "hub";
    case Source::file: return "file";
  }
  return "?";
}

Result<Source> parse_source(std::string_view s) {
  if (s == "native") return Source::native;
  if (s == "hub") return Source::hub;
  if (s == "file") return Source::file;
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

Result<std::unique_ptr<Store>> Store::open(const Options& opts) {
  if (opts.dir.empty()) return make_error(Errc::invalid_argument, "cache directory is not set");
  BTFD_TRY_VOID(mkdir_p(opts.dir, 0755));
  BTFD_TRY_VOID(mkdir_p(opts.dir + "/blobs", 0755));
  BTFD_TRY(Db db, Db::open(opts.dir + "/index.sqlite"));
  // WAL: readers never block the writer; synchronous=FULL makes each commit durable,
  // which the crash guarantees rely on.
  BTFD_TRY_VOID(db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;"));
  BTFD_TRY_VOID(migrate(db));
  std::unique_ptr<Store> s(new Store(opts, std::move(db)));
  BTFD_TRY_VOID(s->recover());
  return s;
}

// Removes what a crash can leave behind: temp files, rows whose blob is missing
// or has the wrong size (and rows that depended on them), unreferenced blobs.
Status Store::recover() {
  std::lock_guard lock(mu_);
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
  BTFD_TRY(GcReport swept, sweep_unreferenced_locked());
  counters_.recovered_orphans += swept.removed_blobs;
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
  BTFD_TRY(Stmt sum, db_.prepare("SELECT COALESCE(SUM(size), 0) FROM blobs"));
  BTFD_TRY(bool row, sum.step());
  bytes_ = row ? static_cast<uint64_t>(sum.int64(0)) : 0;
  last_flush_ = now_();
  return {};
}

void Store::release_if_unreferenced_locked(const std::vector<std::string>& hexes) {
  for (const auto& hex : hexes) {
    auto q = db_.prepare(kReferencedSql);
    if (!q) continue;
    auto row = q->bind(1, hex).step();
    if (!row || !*row || q->int64(0) != 0) continue;
    auto size = db_.prepare("SELECT size FROM blobs WHERE digest = ?1");
    if (!size) continue;
    auto srow = size->bind(1, hex).step();
    if (!srow || !*srow) continue;
    uint64_t n = static_cast<uint64_t>(size->int64(0));
    auto del = db_.prepare("DELETE FROM blobs WHERE digest = ?1");
    if (!del || !del->bind(1, hex).run()) continue;
    bytes_ -= std::min(bytes_, n);
    verified_.erase(hex);
    if (auto d = digest_from_hex(hex)) (void)blobs_.remove(*d);
  }
}

void Store::note_touch_locked(std::string key, int64_t when) {
  touches_[std::move(key)] = when;
  // Bounded memory and bounded staleness; the daemon also flushes every second
  // from a worker, so lookups rarely pay for the write themselves.
  if (touches_.size() >= 4096 || when - last_flush_ >= 60) (void)flush_touches_locked();
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
    }
  }
  BTFD_TRY_VOID(tx.commit());
  touches_.clear();
  last_flush_ = now_();
  return {};
}

void Store::gc_if_over_budget() {
  bool over;
  {
    std::lock_guard lock(mu_);
    over = bytes_ > opts_.budget_bytes;
  }
  if (over) (void)gc();
}

// Deletes blob rows (and files) that no kernel, minimized or object row names.
// Rows go first (committed), files after: a crash in between leaves orphans
// that the next open removes.
Result<GcReport> Store::sweep_unreferenced_locked() {
  GcReport r;
  std::vector<std::pair<std::string, uint64_t>> dead;
  {
    BTFD_TRY(Stmt s, db_.prepare(
                         "SELECT digest, size FROM blobs WHERE digest NOT IN ("
                         "SELECT digest FROM kernels UNION SELECT digest FROM minimized UNION "
                         "SELECT digest FROM objects)"));
    for (;;) {
      BTFD_TRY(bool row, s.step());
      if (!row) break;
      dead.emplace_back(s.text(0), static_cast<uint64_t>(s.int64(1)));
    }
  }
  if (dead.empty()) return r;
  {
    BTFD_TRY(Transaction tx, Transaction::begin(db_));
    for (const auto& [hex, size] : dead) {
      BTFD_TRY(Stmt s, db_.prepare("DELETE FROM blobs WHERE digest = ?1"));
      BTFD_TRY_VOID(s.bind(1, hex).run());
    }
    BTFD_TRY_VOID(tx.commit());
  }
  for (const auto& [hex, size] : dead) {
    auto d = digest_from_hex(hex);
    if (d) (void)blobs_.remove(*d);
    verified_.erase(hex);
    bytes_ -= std::min(bytes_, size);
    ++r.removed_blobs;
    r.freed_bytes += size;
  }
  return r;
}

Result<PendingBlob> Store::begin_blob() { return blobs_.create_temp(); }

Status Store::register_blob_locked(const Published& p) {
  BTFD_TRY(Stmt s, db_.prepare("INSERT OR IGNORE INTO blobs(digest, size) VALUES (?1, ?2)"));
  BTFD_TRY_VOID(s.bind(1, to_hex(p.digest)).bind(2, static_cast<int64_t>(p.size)).run());
  if (sqlite3_changes(db_.raw()) > 0) bytes_ += p.size;
  // Content we just hashed ourselves needs no verification on first use.
  verified_.insert(to_hex(p.digest));
  return {};
}

Result<KernelEntry> Store::commit_kernel(PendingBlob&& blob, const KernelIdentity& id, Source source,
                                         std::string origin, bool pin) {
  BTFD_TRY_VOID(validate_identity(id));
  BTFD_TRY(Published p, blobs_.publish(std::move(blob)));
  KernelEntry e{id, source, std::move(origin), p.digest, p.size, now_(), now_(), pin};
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
      release_if_unreferenced_locked({to_hex(p.digest)});
      return std::move(st).error().wrap("cannot record kernel " + id.to_string());
    }
    forget_hits_locked();
    if (!old_hex.empty() && old_hex != to_hex(p.digest)) release_if_unreferenced_locked({old_hex});
  }
  gc_if_over_budget();
  return e;
}

Result<KernelEntry> Store::put_kernel(const KernelIdentity& id, std::span<const uint8_t> btf, Source source,
                                      std::string origin, bool pin) {
  BTFD_TRY(PendingBlob b, begin_blob());
  if (auto st = write_all(b.fd(), btf); !st) return std::move(st).error().wrap("cannot store kernel " + id.to_string());
  return commit_kernel(std::move(b), id, source, std::move(origin), pin);
}

void Store::forget_hits_locked() {
  hit_memo_.clear();
  ++memo_gen_;
}

void Store::drop_corrupt_locked(const std::string& hex) {
  forget_hits_locked();
  ++counters_.corrupt_blobs;
  for (const char* sql : {"DELETE FROM kernels WHERE digest = ?1", "DELETE FROM minimized WHERE digest = ?1",
                          "DELETE FROM objects WHERE digest = ?1", "DELETE FROM blobs WHERE digest = ?1"}) {
    auto s = db_.prepare(sql);
    if (s) (void)s->bind(1, hex).run();
  }
  verified_.erase(hex);
  if (auto d = digest_from_hex(hex)) (void)blobs_.remove(*d);
}

// Opens a blob, hashing it if it has not been verified since open().
Result<Blob> Store::open_verified(const Digest& d, uint64_t size, bool verified_only) {
  std::string hex = to_hex(d);
  auto fd = blobs_.open(d);
  bool corrupt = false;
  if (fd) {
    BTFD_TRY(uint64_t actual, file_size(fd->get()));
    corrupt = actual != size;
    bool known;
    {
      std::lock_guard lock(mu_);
      known = verified_.count(hex) != 0;
    }
    if (!corrupt && !known && verified_only) return make_error(Errc::busy, "blob " + hex + " is not verified yet");
    if (!corrupt && !known) {
      BTFD_TRY(Digest got, sha256_fd(fd->get()));
      corrupt = got != d;
    }
  } else if (fd.error().code != Errc::not_found) {
    return std::move(fd).error();
  } else {
    corrupt = true;
  }
  std::lock_guard lock(mu_);
  if (corrupt) {
    drop_corrupt_locked(hex);
    return make_error(Errc::corrupt, "blob " + hex + " failed verification and was dropped");
  }
  verified_.insert(hex);
  return Blob{std::move(fd).value(), blobs_.path_of(d), d, size};
}

Result<std::optional<std::pair<KernelEntry, Blob>>> Store::find_kernel(const KernelIdentity& id, bool verified_only) {
  using Found = std::optional<std::pair<KernelEntry, Blob>>;
  std::string key = "k\x1f" + id.distro_id + "\x1f" + id.distro_version + "\x1f" + id.arch + "\x1f" + id.release;
  std::optional<KernelEntry> memo;
  {
    std::lock_guard lock(mu_);
    if (auto it = hit_memo_.find(key); it != hit_memo_.end()) {
      memo = it->second;
      memo->last_used = now_();
      note_touch_locked(key, memo->last_used);
    }
  }
  if (memo) {
    auto fd = blobs_.open(memo->digest);
    if (fd) {
      auto size = file_size(fd->get());
      if (size && *size == memo->size) {
        Blob b{std::move(fd).value(), blobs_.path_of(memo->digest), memo->digest, memo->size};
        return Found(std::pair(std::move(*memo), std::move(b)));
      }
    }
    std::lock_guard lock(mu_);
    hit_memo_.erase(key);  // the full path below re-checks (and drops a damaged blob)
  }
  KernelEntry e;
  uint64_t gen = 0;
  {
    std::lock_guard lock(mu_);
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
    note_touch_locked(key, e.last_used);
  }
  auto blob = open_verified(e.digest, e.size, verified_only);
  if (!blob) {
    if (blob.error().code == Errc::corrupt) return Found();
    return std::move(blob).error();
  }
  {
    std::lock_guard lock(mu_);
    if (gen == memo_gen_) hit_memo_[key] = e;  // else a write came in between: do not remember a stale row
  }
  return Found(std::pair(std::move(e), std::move(blob).value()));
}

Result<Blob> Store::put_minimized(const Digest& kernel, std::vector<Digest> objects, std::span<const uint8_t> btf,
                                  std::string report_json) {
  std::string key = objects_key(objects);
  BTFD_TRY(Published p, blobs_.write(btf));
  {
    std::lock_guard lock(mu_);
    Status st = [&]() -> Status {
      BTFD_TRY(Transaction tx, Transaction::begin(db_));
      BTFD_TRY_VOID(register_blob_locked(p));
      BTFD_TRY(Stmt s, db_.prepare(
                           "INSERT OR REPLACE INTO minimized(kernel_digest, objects_key, objects, digest, report, "
                           "created_at, last_used) VALUES (?1,?2,?3,?4,?5,?6,?6)"));
      BTFD_TRY_VOID(s.bind(1, to_hex(kernel)).bind(2, key).bind(3, join_digests(objects)).bind(4, to_hex(p.digest))
                        .bind(5, report_json).bind(6, now_()).run());
      return tx.commit();
    }();
    if (!st) {
      release_if_unreferenced_locked({to_hex(p.digest)});
      return std::move(st).error().wrap("cannot record minimized BTF");
    }
  }
  gc_if_over_budget();
  BTFD_TRY(UniqueFd fd, blobs_.open(p.digest));
  return Blob{std::move(fd), blobs_.path_of(p.digest), p.digest, p.size};
}

Result<std::optional<Blob>> Store::find_minimized(const Digest& kernel, std::vector<Digest> objects) {
  std::string key = objects_key(objects);
  Digest d{};
  uint64_t size = 0;
  {
    std::lock_guard lock(mu_);
    BTFD_TRY(Stmt s, db_.prepare(
                         "SELECT m.digest, b.size FROM minimized m JOIN blobs b ON b.digest = m.digest "
                         "WHERE m.kernel_digest=?1 AND m.objects_key=?2"));
    BTFD_TRY(bool row, s.bind(1, to_hex(kernel)).bind(2, key).step());
    if (!row) return std::optional<Blob>();
    BTFD_TRY(d, digest_from_hex(s.text(0)));
    size = static_cast<uint64_t>(s.int64(1));
    note_touch_locked("m\x1f" + to_hex(kernel) + "\x1f" + key, now_());
  }
  auto blob = open_verified(d, size);
  if (!blob) {
    if (blob.error().code == Errc::corrupt) return std::optional<Blob>();
    return std::move(blob).error();
  }
  return std::optional<Blob>(std::move(blob).value());
}

Status Store::remember_object(const Digest& digest, std::span<const uint8_t> bytes) {
  if (sha256(bytes) != digest) return make_error(Errc::invalid_argument, "object digest does not match its bytes");
  std::string hex = to_hex(digest);
  bool have = false;
  {
    std::lock_guard lock(mu_);
    BTFD_TRY(Stmt s, db_.prepare("UPDATE objects SET last_requested=?2 WHERE digest=?1"));
    BTFD_TRY_VOID(s.bind(1, hex).bind(2, now_()).run());
    have = sqlite3_changes(db_.raw()) > 0;
  }
  if (have) return {};
  BTFD_TRY(Published p, blobs_.write(bytes));
  std::lock_guard lock(mu_);
  Status st = [&]() -> Status {
    BTFD_TRY(Transaction tx, Transaction::begin(db_));
    BTFD_TRY_VOID(register_blob_locked(p));
    BTFD_TRY(Stmt s, db_.prepare("INSERT OR REPLACE INTO objects(digest, last_requested) VALUES (?1, ?2)"));
    BTFD_TRY_VOID(s.bind(1, hex).bind(2, now_()).run());
    return tx.commit();
  }();
  if (!st) release_if_unreferenced_locked({hex});
  return st;
}

Result<std::vector<std::pair<Digest, std::vector<uint8_t>>>> Store::recent_objects(int64_t since_unix) {
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
  std::vector<std::pair<Digest, std::vector<uint8_t>>> out;
  for (const auto& [d, size] : rows) {
    auto blob = open_verified(d, size);
    if (!blob) continue;  // dropped as corrupt: the object will be remembered again when asked for
    BTFD_TRY(auto bytes, pread_all(blob->fd.get(), size));
    out.emplace_back(d, std::move(bytes));
  }
  return out;
}

Status Store::put_negative(const KernelIdentity& id, int64_t retry_after_unix, std::string reason) {
  std::lock_guard lock(mu_);
  BTFD_TRY(Stmt s, db_.prepare(
                       "INSERT OR REPLACE INTO negative(distro, version, arch, release, retry_after, reason) "
                       "VALUES (?1,?2,?3,?4,?5,?6)"));
  return s.bind(1, id.distro_id).bind(2, id.distro_version).bind(3, id.arch).bind(4, id.release)
      .bind(5, retry_after_unix).bind(6, reason).run();
}

Result<std::optional<int64_t>> Store::find_negative(const KernelIdentity& id) {
  std::lock_guard lock(mu_);
  BTFD_TRY(Stmt s, db_.prepare(
                       "SELECT retry_after FROM negative WHERE distro=?1 AND version=?2 AND arch=?3 AND release=?4"));
  BTFD_TRY(bool row, s.bind(1, id.distro_id).bind(2, id.distro_version).bind(3, id.arch).bind(4, id.release).step());
  if (!row || s.int64(0) <= now_()) return std::optional<int64_t>();
  return std::optional<int64_t>(s.int64(0));
}

Status Store::clear_negative(const KernelIdentity& id) {
  std::lock_guard lock(mu_);
  BTFD_TRY(Stmt s, db_.prepare("DELETE FROM negative WHERE distro=?1 AND version=?2 AND arch=?3 AND release=?4"));
  return s.bind(1, id.distro_id).bind(2, id.distro_version).bind(3, id.arch).bind(4, id.release).run();
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

Result<GcReport> Store::gc(uint64_t budget_override) {
  uint64_t budget = budget_override ? budget_override : opts_.budget_bytes;
  std::lock_guard lock(mu_);
  forget_hits_locked();
  BTFD_TRY_VOID(flush_touches_locked());  // eviction order needs current last_used
  GcReport total;
  BTFD_TRY(GcReport first, sweep_unreferenced_locked());
  total = first;
  auto used = [&]() -> Result<uint64_t> { return bytes_; };
  // Cheapest to recompute first: minimized results, then remembered objects, then
  // full kernels (which may need the network again). Pinned kernels never go.
  static const char* const kVictims[] = {
      "SELECT rowid, digest FROM minimized ORDER BY last_used, rowid LIMIT 1",
      "SELECT rowid, digest FROM objects ORDER BY last_requested, rowid LIMIT 1",
      "SELECT rowid, digest FROM kernels WHERE pinned = 0 ORDER BY last_used, rowid LIMIT 1",
  };
  static const char* const kDelete[] = {
      "DELETE FROM minimized WHERE rowid = ?1",
      "DELETE FROM objects WHERE rowid = ?1",
      "DELETE FROM kernels WHERE rowid = ?1",
  };
  for (size_t tier = 0; tier < 3; ++tier) {
    for (;;) {
      BTFD_TRY(uint64_t u, used());
      if (u <= budget) return total;
      int64_t victim = 0;
      std::string victim_hex;
      {
        BTFD_TRY(Stmt s, db_.prepare(kVictims[tier]));
        BTFD_TRY(bool row, s.step());
        if (!row) break;
        victim = s.int64(0);
        victim_hex = s.text(1);
      }
      BTFD_TRY(Stmt del, db_.prepare(kDelete[tier]));
      BTFD_TRY_VOID(del.bind(1, victim).run());
      ++total.removed_entries;
      uint64_t before = bytes_;
      release_if_unreferenced_locked({victim_hex});
      if (bytes_ < before) {
        ++total.removed_blobs;
        total.freed_bytes += before - bytes_;
      }
    }
  }
  return total;
}

Result<Listing> Store::list() {
  std::lock_guard lock(mu_);
  (void)flush_touches_locked();
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
      e.last_used = s.int64(9);
      e.pinned = s.int64(10) != 0;
      l.kernels.push_back(std::move(e));
    }
  }
  {
    BTFD_TRY(Stmt s, db_.prepare(
                         "SELECT m.kernel_digest, m.objects, m.digest, b.size, m.created_at, m.last_used "
                         "FROM minimized m JOIN blobs b ON b.digest = m.digest ORDER BY m.last_used DESC"));
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
      e.last_used = s.int64(5);
      l.minimized.push_back(std::move(e));
    }
  }
  {
    BTFD_TRY(Stmt s, db_.prepare(
                         "SELECT o.digest, b.size, o.last_requested FROM objects o "
                         "JOIN blobs b ON b.digest = o.digest ORDER BY o.last_requested DESC"));
    for (;;) {
      BTFD_TRY(bool row, s.step());
      if (!row) break;
      ObjectEntry e;
      BTFD_TRY(e.digest, digest_from_hex(s.text(0)));
      e.size = static_cast<uint64_t>(s.int64(1));
      e.last_requested = s.int64(2);
      l.objects.push_back(e);
    }
  }
  return l;
}

Status Store::flush_touches() {
  std::lock_guard lock(mu_);
  return flush_touches_locked();
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
  u.bytes = count("SELECT COALESCE(SUM(size), 0) FROM blobs");
  u.blobs = count("SELECT COUNT(*) FROM blobs");
  u.kernels = count("SELECT COUNT(*) FROM kernels");
  u.minimized = count("SELECT COUNT(*) FROM minimized");
  u.objects = count("SELECT COUNT(*) FROM objects");
  u.negative = count("SELECT COUNT(*) FROM negative");
  return u;
}

}  // namespace btfd::store
