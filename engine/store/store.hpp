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
// threads and its event loop. Every public method is thread-safe: index access
// goes through one connection guarded by mu_, while hashing, writing, fsyncing
// and unlinking blob content happens outside it. Nothing holds mu_ for long:
// lookups hold it for microseconds, a write for one commit, gc() and
// verify_all() for one bounded batch at a time (kGcBatch rows per transaction),
// releasing it in between. Other processes may open the same directory:
// SQLite's own locking (busy timeout) serializes them.
//
// Which methods may block (wait for mu_, do disk I/O, hash):
//   - find_kernel(id, /*verified_only=*/true) is the event loop's call: it
//     waits at most kLoopLockWait for mu_ and never hashes, flushes or writes
//     on the common paths; when it would have to, it fails with Errc::busy and
//     the caller takes its worker path (a plain find_kernel). Why a bounded
//     try-lock rather than a second connection: the hit memo and the verified
//     stamps live under mu_ and are consulted in microseconds, a second SQLite
//     connection would still meet the writer's WAL locks, and every holder of
//     mu_ is bounded, so a miss costs one worker round trip, not a stall.
//     (One exception: a blob whose size is wrong is dropped on the spot.)
//   - list() and usage() only read: they wait for mu_ (at most one batch) and
//     never write or fsync; unflushed last_used times are merged in memory.
//   - everything else may wait for mu_, hash blobs and write (fsync): workers only.
//
// Integrity: a blob is hashed on its first use after open() (and written ones
// when they are published); what was hashed is remembered as the file's stamp
// (inode, size, mtime, ctime). Before a blob is served its open fd is fstat'ed:
// a changed stamp means the blob is hashed again (or, for verified_only, busy).
// A blob whose content does not match its name is never served: its rows are
// dropped, the file removed and the event counted in usage().corrupt_blobs.
// verify_all() re-hashes every blob (btfctl verify, the daily refresh).
//
// Self-healing: an index that SQLite cannot read or whose quick_check fails at
// open() is moved aside (index.sqlite.damaged-<time>, only the latest kept) and
// rebuilt empty; the blobs no row names any more are removed by the usual
// recovery (a blob's name is its content, not the kernel it belongs to, so
// they cannot be re-adopted). Damage found later (SQLITE_CORRUPT/NOTADB on a
// query) fails that call with Errc::io and makes the next maintenance call
// (flush_touches(), gc(), verify_all()) do the same rebuild. Each rebuild is
// counted in usage().index_rebuilt and described in usage().index_note.
//
// Bounded resources: everything on disk by the budget (Options::budget_bytes,
// [Cache] MaxSize=): blob bytes plus every index row's estimated bytes (its
// text columns and a fixed overhead, schema.cpp's kRowCosts). Rows count
// because clients make them: distinct object sets whose minimized BTF is one
// blob each add a row with its report and object list, remembered objects
// carry client-given names, negative entries reasons. The index keeps the
// totals itself (schema 6), so usage() and the checks before and after each
// put are point reads. Every put that leaves the total over the budget runs
// gc() before it returns, so the cache exceeds the budget by at most one
// entry between gcs. gc() brings the total under the budget from any state,
// evicting rows least useful first (each frees its row bytes; a blob goes
// with the last row naming it) -- except pinned kernels (the host's native
// BTF, btfctl pin): the administrator's choice, never evicted, and the only
// thing gc() may leave over budget; how much is reported in
// GcReport::over_budget and Usage::pinned_bytes. Also bounded: negative
// entries by Options::max_negative rows (oldest evicted first, expired ones
// collected by put_negative and gc), a minimized row's report by
// kMaxReportBytes, remembered touches by a fixed count, remembered objects by
// Options::remembered_*_per_uid (each uid's oldest forgotten).
//
// A full disk (ENOSPC, EDQUOT, SQLITE_FULL) fails the call with Errc::no_space
// and a message naming the cache directory; what was stored before stays.

#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <map>
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
  // Negative entries held at most (each ~300 bytes of index): made-up kernel
  // names must not grow the index without bound.
  uint64_t max_negative = 4096;
  // Remembered objects (kept to pre-minimize new kernels) per uid that sent
  // them, by count and bytes: beyond either the uid's least recently sent go.
  // One user's objects cannot then crowd out anyone else's cache entries.
  uint64_t remembered_per_uid = 64;
  uint64_t remembered_bytes_per_uid = 64ull << 20;
};

// Rows per transaction in gc() and blobs per batch in verify_all(): bounds how
// long either holds the store's lock at a time.
inline constexpr size_t kGcBatch = 64;
// How long the event loop's lookup waits for the lock before answering busy.
inline constexpr std::chrono::milliseconds kLoopLockWait{2};
// The largest relocation report a minimized row keeps. A larger one is not
// kept (the row stores "", and find_minimized returns "": the BTF is still
// cached, its report is not): a report is a reply's worth of JSON, and one
// row must not take a large share of the budget by itself.
inline constexpr size_t kMaxReportBytes = 1 << 20;

// debuginfo: generated by pahole from the kernel's own debug info (origin says
// from which file or URL, its build-id and pahole's version).
enum class Source { native, hub, file, debuginfo };
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
  std::string name;  // the file name a client last gave it ("" if none)
};

struct Listing {
  std::vector<KernelEntry> kernels;
  std::vector<MinimizedEntry> minimized;
  std::vector<ObjectEntry> objects;
};

struct VerifyReport {
  uint64_t checked = 0;  // blobs looked at
  uint64_t corrupt = 0;  // dropped: missing, wrong size or content not matching the name
  uint64_t bytes = 0;    // bytes hashed
};

struct GcReport {
  uint64_t removed_entries = 0;
  uint64_t removed_blobs = 0;
  uint64_t freed_bytes = 0;    // blob and row bytes
  uint64_t over_budget = 0;    // bytes still over the budget after gc: pinned kernels' only
};

struct Usage {
  uint64_t bytes = 0;        // what the budget is compared with: blob_bytes + row_bytes
  uint64_t blob_bytes = 0;   // sum of blob sizes
  uint64_t row_bytes = 0;    // the index rows' estimated bytes (schema 6's totals)
  uint64_t pinned_bytes = 0; // blob bytes of pinned kernels, which gc never evicts
  uint64_t budget = 0;
  uint64_t blobs = 0, kernels = 0, minimized = 0, objects = 0, negative = 0;
  uint64_t corrupt_blobs = 0;     // detected since open
  uint64_t recovered_temps = 0;   // stale temp files removed at open
  uint64_t recovered_rows = 0;    // rows dropped at open (missing/wrong-size blob)
  uint64_t recovered_orphans = 0; // unreferenced blobs removed at open
  uint64_t negative_evicted = 0;  // negative entries dropped over max_negative since open
  uint64_t index_rebuilt = 0;     // damaged indexes moved aside and rebuilt since open
  std::string index_note;         // the last rebuild: what was wrong, where the old file went
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
  // `hashed`: the SHA-256 of the blob's bytes, computed by btfd over the very
  // bytes it validated (a hub fetch: hub::FetchResult::digest), so that the
  // file is not read and hashed a second time; nullptr: hashed here.
  Result<KernelEntry> commit_kernel(PendingBlob&& blob, const KernelIdentity& id, Source source,
                                    std::string origin, bool pin, const Digest* hashed = nullptr);
  Result<KernelEntry> put_kernel(const KernelIdentity& id, std::span<const uint8_t> btf, Source source,
                                 std::string origin, bool pin);
  // Updates last_used. nullopt when absent (or when its blob failed verification).
  // With verified_only (the event loop's fast path) the call never hashes and
  // waits at most kLoopLockWait for the lock: it fails with Errc::busy when the
  // lock is held longer, when the blob was not hashed since open() or changed
  // on disk since it was (its stamp differs), so the caller retries on a worker.
  Result<std::optional<std::pair<KernelEntry, Blob>>> find_kernel(const KernelIdentity& id, bool verified_only = false);
  // Whether the index has the kernel's full BTF (not checked, not touched): the
  // event loop's call to choose a lane. Waits at most kLoopLockWait (else busy).
  Result<bool> has_kernel(const KernelIdentity& id);

  // report_json: the relocation report the answer carried, kept with the row
  // (up to kMaxReportBytes, else "") and counted in the budget.
  Result<Blob> put_minimized(const Digest& kernel, std::vector<Digest> objects, std::span<const uint8_t> btf,
                             std::string report_json);
  // The blob and the report it was stored with, so that a cached answer
  // carries what the fresh one did. Updates last_used.
  struct MinimizedHit {
    Blob blob;
    std::string report;
  };
  Result<std::optional<MinimizedHit>> find_minimized(const Digest& kernel, std::vector<Digest> objects);
  // Many minimized entries at once (a bundle import): each distinct blob is
  // published once, then every row goes in one transaction, so either all
  // entries are recorded or none (the blobs of a failed call are released).
  // rows[i].blob indexes btfs. The caller bounds rows.size(): the lock is
  // held for the whole transaction.
  struct MinimizedRow {
    Digest kernel;
    std::vector<Digest> objects;
    size_t blob;
  };
  Result<uint64_t> put_minimized_many(const std::vector<std::span<const uint8_t>>& btfs,
                                      std::vector<MinimizedRow> rows, const std::string& report_json);

  // name: the file name the client gave (already sanitised by the caller);
  // a non-empty one replaces the remembered name.
  // uid: who sent it (the row keeps the latest sender); past that uid's
  // Options::remembered_per_uid / remembered_bytes_per_uid its least recently
  // sent objects are forgotten. An object larger than the byte bound is not
  // remembered. kNoUid: counts against no uid (tests, tools).
  static constexpr int64_t kNoUid = -1;
  Status remember_object(const Digest& digest, std::span<const uint8_t> bytes, const std::string& name = "",
                         int64_t uid = kNoUid);
  // remember_object's warm path, which needs no bytes: true when the object
  // was remembered (with this name and uid) within the last minute, and its
  // last_requested is bumped with the other batched touches; false when
  // remember_object must be called.
  bool touch_remembered(const Digest& digest, const std::string& name = "", int64_t uid = kNoUid);
  // Whether the object with this digest is remembered as sent by uid (its
  // bytes were hashed by btfd then; kNoUid: by anyone), its last_requested
  // bumped with the batched touches when so. What lets a client name an
  // object by digest instead of sending it (GetBtf "digests").
  Result<bool> touch_remembered_by(const Digest& digest, int64_t uid);
  // Remembered objects of uid (kNoUid: of none), for tests and tools.
  Result<uint64_t> remembered_count(int64_t uid);
  // Calls fn with each object remembered since since_unix, one at a time (its
  // bytes are freed before the next is read): peak memory is one object.
  // fn's error stops the walk and is returned.
  Status for_each_recent_object(int64_t since_unix,
                                const std::function<Status(const Digest&, std::vector<uint8_t>)>& fn);
  Result<std::vector<std::pair<Digest, std::vector<uint8_t>>>> recent_objects(int64_t since_unix);

  // Records "the hub has no BTF for id" until retry_after_unix. Expired entries
  // are collected on the way; beyond Options::max_negative rows the oldest go.
  // The reason is kept to its first 512 bytes. mirrors names the mirror list
  // that answered (a fingerprint); one row per kernel, the latest answer.
  Status put_negative(const KernelIdentity& id, int64_t retry_after_unix, std::string reason,
                      const std::string& mirrors = "");
  // The retry-after time when a negative entry from this mirror list is still
  // in force; an answer from another list is no answer.
  Result<std::optional<int64_t>> find_negative(const KernelIdentity& id, const std::string& mirrors = "");
  Status clear_negative(const KernelIdentity& id);
  // Forgets every negative entry (gc: an operator cleaning up wants the hub
  // asked again); returns how many there were.
  Result<uint64_t> clear_all_negative();

  Status set_pinned(const KernelIdentity& id, bool pinned);
  // Removes blobs no row references and expired negative entries, then evicts
  // least-recently-used entries until usage (blobs and rows) fits the budget
  // (negative entries, remembered objects, then minimized results, then full
  // kernels, never pinned ones: store_gc.cpp says why). budget_override (if
  // non-zero) replaces the configured budget. Works in transactions of at most
  // kGcBatch rows, releasing the lock between them; files are unlinked outside
  // it. One gc runs at a time (a second caller waits for the first).
  Result<GcReport> gc(uint64_t budget_override = 0);
  // Re-hashes every blob in batches (hashing outside the lock); drops the
  // corrupt ones as find_kernel would. For btfctl verify and the daily refresh:
  // costs a read of the whole cache.
  Result<VerifyReport> verify_all();
  // Drops a blob whose content hashes right but that a later check refused
  // (e.g. a kernel BTF stored by an older btfd that today's validation
  // rejects): its rows and file go, counted as corrupt, and it is fetched again.
  void drop_invalid(const Digest& d);
  Result<Listing> list();
  Usage usage();
  // Writes batched last_used updates (callers run it periodically off the hot
  // path); also rebuilds the index if a query found it damaged.
  Status flush_touches();

  // For tests and tools: the time source (unix seconds); default is the clock.
  void set_clock_for_testing(int64_t (*now)()) { now_ = now; }

 private:
  using Lock = std::unique_lock<std::timed_mutex>;
  Store(Options opts, Db db);
  // Blocks for mu_, or (nonblocking) waits at most kLoopLockWait: check owns_lock().
  Lock lock_for(bool nonblocking);
  Status recover_locked();
  Status fits_budget(uint64_t size, const std::string& what) const;
  // Blob bytes plus row bytes, as the index's totals say (inside a
  // transaction: including its own writes).
  Result<uint64_t> used_locked();
  // A full disk's error names the cache directory (others pass unchanged).
  Error disk_error(Error e) const;
  // Moves the damaged index aside, opens a fresh one and runs recovery.
  Status rebuild_index_locked(const std::string& why);
  Status heal_if_damaged_locked();
  Result<Blob> open_verified(const Digest& d, uint64_t size, bool verified_only = false);
  bool stamp_verified_locked(const std::string& hex, const FileStamp& stamp) const;
  // Whether the blob row still exists and the file at its path is still the
  // one that was examined (nullopt: it was missing), so that a blob replaced
  // by a concurrent put is not dropped for the damage of its predecessor.
  bool still_same_blob_locked(const Digest& d, const std::optional<FileStamp>& seen);
  void drop_corrupt_locked(const std::string& hex);
  void forget_hits_locked();
  Status register_blob_locked(const Published& p);
  // Forgets uid's remembered objects beyond its bounds (oldest first), in the
  // caller's transaction; released blobs are appended for the caller to retire.
  Status enforce_object_quota_locked(int64_t uid, std::vector<std::pair<std::string, uint64_t>>* released);
  // Deletes up to limit blob rows that nothing references (one transaction)
  // and retires their files into *retired for the caller to unlink.
  Result<GcReport> sweep_unreferenced_locked(size_t limit, std::vector<std::string>* retired);
  // One gc transaction: evicts up to kGcBatch rows of a tier while over budget.
  // Sets *done when the tier has nothing left to give or the budget is met.
  Result<GcReport> evict_batch_locked(size_t tier, uint64_t budget, bool* done, std::vector<std::string>* retired);
  // Drops the blobs (rows, then files) that no row references any more; their
  // files are retired into *retired for unlink_retired() once the lock is released.
  void release_if_unreferenced_locked(const std::vector<std::string>& hexes, std::vector<std::string>* retired);
  static void unlink_retired(const std::vector<std::string>& paths);
  // Inside a transaction: deletes the blob row if nothing references it; adds
  // its hex and size to *released.
  Status release_row_if_unreferenced_locked(const std::string& hex,
                                           std::vector<std::pair<std::string, uint64_t>>* released);
  // last_used updates are batched: a write transaction (and fsync) per lookup
  // would cost more than the lookup itself. may_flush=false never writes (the
  // event loop): when the batch is full the touch is dropped.
  void note_touch_locked(std::string key, int64_t when, bool may_flush = true);
  Status put_negative_locked(const KernelIdentity& id, int64_t retry_after_unix, const std::string& reason,
                             const std::string& mirrors);
  Status flush_touches_locked();
  void gc_if_over_budget();
  Result<GcReport> gc_batches(uint64_t budget_override);

  Options opts_;
  BlobDir blobs_;
  std::timed_mutex mu_;
  std::mutex gc_mu_;  // one gc at a time; taken before mu_, never while holding it
  Db db_;
  // Blobs hashed since open, with the stamp their file had when hashed.
  std::unordered_map<std::string, FileStamp> verified_;
  // Kernels found (and verified) before, by touch key: a repeated lookup skips
  // the index query and SQLite's file locks. Every write that can change what
  // a kernel row points at clears it; a blob that fails to open falls back.
  std::unordered_map<std::string, KernelEntry> hit_memo_;
  uint64_t memo_gen_ = 0;  // bumped with every clear, so a lookup racing a write stores nothing
  // key: "k\x1f<distro>\x1f<version>\x1f<arch>\x1f<release>", "m\x1f<kernel hex>\x1f<objects key>" or
  // "o\x1f<object hex>"
  std::map<std::string, int64_t> touches_;
  // Objects whose row was written or refreshed lately (hex -> what it holds,
  // when): an agent sending the same object again within a minute costs a
  // touch, not a write transaction with its fsync. Forgotten with the row.
  struct Remembered {
    std::string name;
    int64_t uid = -1;
    int64_t when = 0;
  };
  std::unordered_map<std::string, Remembered> remembered_;
  int64_t last_flush_ = 0;
  Usage counters_;
  int64_t (*now_)();
};

// Canonical key of an object set: sha256 over the sorted, de-duplicated digests.
std::string objects_key(std::vector<Digest>& objects);

}  // namespace btfd::store
