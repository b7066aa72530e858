// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The cache: a SQLite index (WAL) over content-addressed blob files.
//
// Durability order: a blob is fully written, fsynced and renamed into place
// before the index row naming it is committed, and index rows are deleted before
// their blobs are unlinked. A crash therefore leaves at worst unreferenced blobs
// or temp files, which open() removes; never a row pointing at a torn blob.
//
// Locking model: one Store object per process, shared by the daemon's worker
// threads. Every public method is thread-safe: index access goes through one
// connection guarded by mu_ (a single writer path; lookups hold it for a few
// microseconds), while hashing, writing and fsyncing blob content happens
// outside the lock. Other processes may open the same directory: SQLite's own
// locking (busy timeout) serializes them.
//
// Integrity: a blob is hashed on its first use after open() (and after every
// write); a blob whose content does not match its name is never served: its rows
// are dropped, the file removed and the event counted in usage().corrupt_blobs.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <map>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernel/identity.hpp"
#include "store/blob_dir.hpp"
#include "store/sqlite_db.hpp"
#include "util/fd.hpp"
#include "util/sha256.hpp"

namespace btfd::store {

struct Options {
  std::string dir;
  uint64_t budget_bytes = 1ull << 30;  // 1 GiB: ~20 full kernels or thousands of minimized blobs
};

enum class Source { native, hub, file };
const char* source_name(Source s);
Result<Source> parse_source(std::string_view s);

// An open, immutable blob file.
struct Blob {
  UniqueFd fd;
  std::string path;
  Digest digest{};
  uint64_t size = 0;
};

struct KernelEntry {
  KernelIdentity id;
  Source source = Source::hub;
  std::string origin;
  Digest digest{};
  uint64_t size = 0;
  int64_t fetched_at = 0;
  int64_t last_used = 0;
  bool pinned = false;
};

struct MinimizedEntry {
  Digest kernel{};
  std::vector<Digest> objects;
  Digest digest{};
  uint64_t size = 0;
  int64_t created_at = 0;
  int64_t last_used = 0;
};

struct ObjectEntry {
  Digest digest{};
  uint64_t size = 0;
  int64_t last_requested = 0;
};

struct Listing {
  std::vector<KernelEntry> kernels;
  std::vector<MinimizedEntry> minimized;
  std::vector<ObjectEntry> objects;
};

struct GcReport {
  uint64_t removed_entries = 0;
  uint64_t removed_blobs = 0;
  uint64_t freed_bytes = 0;
};

struct Usage {
  uint64_t bytes = 0;  // sum of blob sizes
  uint64_t budget = 0;
  uint64_t blobs = 0, kernels = 0, minimized = 0, objects = 0, negative = 0;
  uint64_t corrupt_blobs = 0;     // detected since open
  uint64_t recovered_temps = 0;   // stale temp files removed at open
  uint64_t recovered_rows = 0;    // rows dropped at open (missing/wrong-size blob)
  uint64_t recovered_orphans = 0; // unreferenced blobs removed at open
};

class Store {
 public:
  static Result<std::unique_ptr<Store>> open(const Options& opts);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& dir() const { return opts_.dir; }

  // A temp file in the blob directory for a producer to stream into.
  Result<PendingBlob> begin_blob();
  Result<KernelEntry> commit_kernel(PendingBlob&& blob, const KernelIdentity& id, Source source,
                                    std::string origin, bool pin);
  Result<KernelEntry> put_kernel(const KernelIdentity& id, std::span<const uint8_t> btf, Source source,
                                 std::string origin, bool pin);
  // Updates last_used. nullopt when absent (or when its blob failed verification).
  // With verified_only, a blob not yet hashed since open() is not hashed now:
  // the call fails with Errc::busy instead (for callers that must not block).
  Result<std::optional<std::pair<KernelEntry, Blob>>> find_kernel(const KernelIdentity& id, bool verified_only = false);

  Result<Blob> put_minimized(const Digest& kernel, std::vector<Digest> objects, std::span<const uint8_t> btf,
                             std::string report_json);
  Result<std::optional<Blob>> find_minimized(const Digest& kernel, std::vector<Digest> objects);

  Status remember_object(const Digest& digest, std::span<const uint8_t> bytes);
  Result<std::vector<std::pair<Digest, std::vector<uint8_t>>>> recent_objects(int64_t since_unix);

  Status put_negative(const KernelIdentity& id, int64_t retry_after_unix, std::string reason);
  // The retry-after time when a negative entry is still in force.
  Result<std::optional<int64_t>> find_negative(const KernelIdentity& id);
  Status clear_negative(const KernelIdentity& id);

  Status set_pinned(const KernelIdentity& id, bool pinned);
  // Evicts least-recently-used entries until usage fits the budget (minimized and
  // objects before full kernels, never pinned kernels), then removes blobs no row
  // references. budget_override (if non-zero) replaces the configured budget.
  Result<GcReport> gc(uint64_t budget_override = 0);
  Result<Listing> list();
  Usage usage();
  // Writes batched last_used updates (callers run it periodically off the hot path).
  Status flush_touches();

  // For tests and tools: the time source (unix seconds); default is the clock.
  void set_clock_for_testing(int64_t (*now)()) { now_ = now; }

 private:
  Store(Options opts, Db db);
  Status recover();
  Result<Blob> open_verified(const Digest& d, uint64_t size, bool verified_only = false);
  void drop_corrupt_locked(const std::string& hex);
  void forget_hits_locked();
  Status register_blob_locked(const Published& p);
  Result<GcReport> sweep_unreferenced_locked();
  // Drops the blobs (rows, then files) that no row references any more.
  void release_if_unreferenced_locked(const std::vector<std::string>& hexes);
  // last_used updates are batched: a write transaction (and fsync) per lookup
  // would cost more than the lookup itself.
  void note_touch_locked(std::string key, int64_t when);
  Status flush_touches_locked();
  void gc_if_over_budget();

  Options opts_;
  BlobDir blobs_;
  std::mutex mu_;
  Db db_;
  std::set<std::string> verified_;  // blobs hashed since open
  // Kernels found (and verified) before, by touch key: a repeated lookup skips
  // the index query and SQLite's file locks. Every write that can change what
  // a kernel row points at clears it; a blob that fails to open falls back.
  std::unordered_map<std::string, KernelEntry> hit_memo_;
  uint64_t memo_gen_ = 0;  // bumped with every clear, so a lookup racing a write stores nothing
  // key: "k\x1f<distro>\x1f<version>\x1f<arch>\x1f<release>" or "m\x1f<kernel hex>\x1f<objects key>"
  std::map<std::string, int64_t> touches_;
  int64_t last_flush_ = 0;
  uint64_t bytes_ = 0;  // sum of blob sizes, kept current under mu_
  Usage counters_;
  int64_t (*now_)();
};

// Canonical key of an object set: sha256 over the sorted, de-duplicated digests.
std::string objects_key(std::vector<Digest>& objects);

}  // namespace btfd::store
