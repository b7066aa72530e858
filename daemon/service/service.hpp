// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// What btfd does for a request, independent of the socket: find or obtain a
// kernel's BTF (cache, the running kernel, the hub), minimize it for objects,
// store and answer. Runs on worker threads; identical work in flight is done
// once and shared (coalescing); parsed kernels stay hot under a memory budget.

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "btf/btf_compat.hpp"
#include "btf/kernel_btf.hpp"
#include "btf/minimizer.hpp"
#include "debuginfo/generator.hpp"
#include "hub/hub.hpp"
#include "kernel/identity.hpp"
#include "config/config.hpp"
#include "service/stats.hpp"
#include "store/store.hpp"
#include "util/fd.hpp"

namespace btfd::server {

struct BtfAnswer {
  store::Blob blob;
  KernelIdentity kernel;
  std::string source;    // native | hub | file | debuginfo: where the kernel BTF came from
  bool cached = false;   // answered without fetching or computing anything new
  bool exact = true;     // false: a distro alias chose another distro's kernel
  bool minimized = false;
  nlohmann::json relocations;  // summary when minimized
  bool report = true;          // the summary is on the answer (GetBtf "report")
  std::string compat;          // the compatibility level the bytes were rewritten for, if any
};

// What a GetBtf call asks beyond its kernel and objects.
struct GetBtfOptions {
  bool ask_hub_again = false;  // "refresh": an earlier "not in hub" does not answer
  bool report = true;          // the relocation report on the answer (parsed from the store on a hit)
};

// A module's split BTF (over its kernel's full BTF), from the kernel's
// module debug files (service_debuginfo.cpp).
struct ModuleAnswer {
  std::string name;
  store::Blob blob;
  std::string origin;
  bool cached = false;
};
// At most this many modules per GetBtf call.
inline constexpr size_t kMaxModulesPerCall = 16;

// An object a client passed: bytes already read (a pipe, read by the loop)
// or a regular file to read on the worker, at most size_limit bytes.
struct ClientObject {
  std::string name;   // the file name the client gave (sanitised; may be empty), for ListKernels
  int64_t uid = -1;   // who sent it: the store bounds each uid's remembered objects (-1: none)
  UniqueFd fd;
  uint64_t size_limit = 0;
  std::vector<uint8_t> bytes;
  bool loaded = false;
};

// A client object while a call uses it, with its digest. A memfd sealed
// against writing, shrinking and growing (libbtfd and the Go client send
// those: nothing can change or truncate it under btfd) is only hashed, in
// chunks that stay in the cache, and mapped read-only when its bytes are
// first needed: a cache hit, the common case, never maps it (no page-table
// work, no unmap shooting down the other cores' TLBs). Anything else is a
// copy, read at most to the size it had when the call was admitted.
class ObjectBytes {
 public:
  // A copy whose digest is already known (a remembered object), or computed.
  ObjectBytes(std::vector<uint8_t> copy, const Digest& digest) : copy_(std::move(copy)), digest_(digest) {}
  explicit ObjectBytes(std::vector<uint8_t> copy = {});
  static Result<ObjectBytes> take(ClientObject& o);
  ObjectBytes(ObjectBytes&& other) noexcept;
  ObjectBytes& operator=(ObjectBytes&& other) noexcept;
  ObjectBytes(const ObjectBytes&) = delete;
  ObjectBytes& operator=(const ObjectBytes&) = delete;
  ~ObjectBytes();
  const Digest& digest() const { return digest_; }
  // The bytes; a sealed memfd is mapped (or, failing that, copied) here.
  Result<std::span<const uint8_t>> bytes();

 private:
  std::vector<uint8_t> copy_;
  Digest digest_{};
  UniqueFd sealed_;  // a sealed memfd not mapped yet
  size_t size_ = 0;  // its size
  void* map_ = nullptr;
};

class Service {
 public:
  Service(Config cfg, std::unique_ptr<store::Store> store, HostInfo host, Stats& stats);

  // This host as os-release says (requests default to it); the service maps
  // it, like every identity it is given, to the archive's key itself.
  const HostInfo& host() const { return host_; }
  // objects: what the client passed (never paths). hub_gate, when set, is
  // asked before a miss goes to the hub (a per-client rate limit). An error
  // about one object says which (Error::object: its index in `objects`).
  // cancelled, when set, stops the work at its next checkpoint (the
  // client went away, btfd is stopping): Errc::cancelled.
  Result<BtfAnswer> get_btf(const KernelIdentity& id, std::vector<ClientObject> objects,
                            const hub::ProgressFn& progress = {}, const std::function<Status()>& hub_gate = {},
                            const GetBtfOptions& opts = {}, const std::atomic<bool>* cancelled = nullptr);
  // GetBtf with "digests": BTF minimized for objects uid sent before, named
  // by their digests, from the cache alone (no fetch, no minimize). Anything
  // short of that is Errc::not_found in Domain::object (ObjectsNeeded).
  Result<BtfAnswer> get_btf_by_digests(const KernelIdentity& id, const std::vector<Digest>& digests, int64_t uid,
                                       const GetBtfOptions& opts = {});
  // Whether btfd can name this kernel in the archive's layout (a malformed or
  // unknown version is the kernel's fault, not an object's): cheap, no I/O,
  // for the dispatcher to answer InvalidKernel before anything is queued.
  Status check_kernel(const KernelIdentity& id) const {
    auto key = archive_key(id);
    if (!key) return std::move(key).error();
    return {};
  }
  // A cache hit answered without blocking (no hashing, no fetching): for the
  // event loop's fast path. nullopt means "take the worker path".
  std::optional<BtfAnswer> try_cached(const KernelIdentity& id);
  // Whether a kernel's full BTF is at hand (built in, or in the cache), so
  // that GetBtf/Prefetch for it need no mirror: the event loop's call to
  // choose a lane (bounded wait; a busy cache counts as not at hand).
  bool btf_at_hand(const KernelIdentity& id);
  // The split BTF of each named module of a kernel whose full BTF is cached
  // (a GetBtf without objects just answered for it): from the cache, else
  // generated by pahole from the module's installed debug file over the
  // kernel's BTF and filed as a derived entry of that kernel (a minimized
  // row under the digest of "module:NAME", so the cache's budget and
  // eviction cover it). Names are module names (checked by the caller).
  Result<std::vector<ModuleAnswer>> module_btfs(const KernelIdentity& id, const std::vector<std::string>& names);
  // Fetches a kernel's BTF (pinned) and pre-minimizes it for recently requested objects.
  Result<nlohmann::json> prefetch(const KernelIdentity& id, bool pin, const hub::ProgressFn& progress = {});
  Result<nlohmann::json> list();
  // Freshly installed kernels stay pinned until booted or replaced: unpins this
  // host's entries that are not the running kernel and whose modules directory
  // is gone or older than the running kernel's (a later kernel was booted).
  Result<int> release_pins(const std::vector<std::string>& module_dirs);
  // The refresh timer's job: every installed kernel without BTF of its own gets
  // its BTF if the hub has it by now (a cached "not in hub" is asked again),
  // and pins of kernels booted past are released. Per-kernel outcomes.
  Result<nlohmann::json> refresh();
  nlohmann::json status();
  nlohmann::json mirror_stats() const;
  Result<nlohmann::json> gc();
  // Stores a bundle's minimized BTFs (docs/bundle.md) as cache entries for the
  // objects it was made for, after checking the whole bundle (every blob's
  // SHA-256 and btf_validate); nothing is stored when a check fails
  // (service_import.cpp).
  Result<nlohmann::json> import_bundle(std::span<const uint8_t> bundle);
  // Re-hashes every blob in the cache; corrupt ones are dropped (btfctl verify,
  // and the daily refresh).
  Result<nlohmann::json> verify();
  // Drops parsed kernels idle for longer than the configured time (all if force).
  void trim_hot(bool force);
  void flush_touches() { (void)store_->flush_touches(); }
  uint64_t hot_bytes() const;

 private:
  // blob (optional) receives the open BTF file when the entry was a cache hit.
  // An imported bundle's entry for this kernel and object set, if any.
  std::optional<BtfAnswer> imported_answer(const KernelIdentity& id, std::vector<Digest> objects);
  Result<store::KernelEntry> ensure_kernel(const KernelIdentity& id, bool pin, const hub::ProgressFn& progress,
                                           bool* fetched, store::Blob* blob = nullptr,
                                           const std::function<Status()>& hub_gate = {});
  Result<store::KernelEntry> obtain_kernel(const KernelIdentity& id, bool pin, const hub::ProgressFn& progress,
                                           const std::function<Status()>& hub_gate);
  Result<store::KernelEntry> obtain_from_hub(const KernelIdentity& id, bool pin, const hub::ProgressFn& progress,
                                             const std::function<Status()>& hub_gate, bool* gated);
  // service_debuginfo.cpp: the kernel's BTF generated from its debug info
  // (installed, then debuginfod) when the hub said hub_error; stored with
  // source debuginfo. Errors carry the hub's answer too.
  Result<store::KernelEntry> obtain_from_debuginfo(const KernelIdentity& id, bool pin, const hub::ProgressFn& progress,
                                                   Error hub_error);
  Result<debuginfo::Generated> from_debuginfod(const std::string& build_id, const hub::ProgressFn& progress);
  nlohmann::json debuginfo_status() const;
  // Runs work() unless the same key is already in flight; then waits for that run
  // and returns its status instead (*ran says which happened).
  Status once(const std::string& key, const std::function<Status()>& work, bool* ran);
  Result<std::shared_ptr<const btf::KernelBtf>> hot_kernel(const store::KernelEntry& e);
  Result<ObjectBytes> read_object(ClientObject& o);
  // Each object remembered for prefetch (a touch when it is already).
  void remember_objects(std::vector<std::pair<Digest, ObjectBytes>>& objs, const std::vector<ClientObject>& objects);
  // The archive's key for an identity (rhel 8.4 -> rhel/8): the cache, the
  // negative entries and the hub all use it, so spellings of one kernel share
  // one entry.
  Result<ArchiveKey> archive_key(const KernelIdentity& id) const;
  Result<store::Blob> minimized_for(const store::KernelEntry& e, std::vector<std::pair<Digest, ObjectBytes>>& objs,
                                    bool* computed, nlohmann::json* summary /* null: not wanted */,
                                    const std::atomic<bool>* cancelled = nullptr);
  // The minimizer's budget for one call ([Limits] MaxRelocations=, ...).
  btf::MinimizeOptions minimize_options(const std::atomic<bool>* cancelled) const;

  Config cfg_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<hub::Hub> hub_;
  std::unique_ptr<debuginfo::Generator> debuginfo_;
  hub::AttemptFn debuginfod_attempt_;  // a debuginfod download in btfd-fetch
  HostInfo host_;
  ArchiveKey host_key_;      // host_.identity as the archive names it
  std::string mirrors_key_;  // fingerprint of the mirror list, for negative entries
  Stats& stats_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();

  std::mutex inflight_mu_;
  std::map<std::string, std::shared_future<Status>> inflight_;

  mutable std::mutex hot_mu_;
  struct Hot {
    std::shared_ptr<const btf::KernelBtf> kernel;
    std::chrono::steady_clock::time_point last_used;
  };
  std::map<std::string, Hot> hot_;
};

nlohmann::json identity_json(const KernelIdentity& id);
// The kernel digest an imported bundle's entries are filed under: the kernel's
// identity stands for the full BTF an import does not have.
Digest bundle_kernel_digest(const KernelIdentity& id);
// The answer's BTF rewritten for an older reader (engine/btf/btf_compat.hpp,
// service_compat.cpp): a sealed memfd of the rewritten bytes replaces the
// cache file, with their digest and size; per call, not stored.
Result<BtfAnswer> compat_answer(BtfAnswer a, const btf::CompatLevel& level);
// The GetBtf reply for an answer (its fd travels beside it as index 0).
nlohmann::json answer_json(const BtfAnswer& a);
// One "modules" entry of the GetBtf reply; fd_index: its fd among the reply's.
nlohmann::json module_json(const ModuleAnswer& m, size_t fd_index);
Result<KernelIdentity> identity_from_json(const nlohmann::json& j, const KernelIdentity& host);

}  // namespace btfd::server
