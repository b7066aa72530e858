// SPDX-License-Identifier: GPL-2.0-or-later
#include "service/service.hpp"

#include <poll.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "btf/minimizer.hpp"
#include "debuginfo/temp_files.hpp"
#include <malloc.h>

#include "btfd-config.h"
#include "hub/fetch_helper.hpp"
#include "upgrade/installed.hpp"
#include "util/log.hpp"

namespace btfd::server {

nlohmann::json identity_json(const KernelIdentity& id) {
  return {{"distro", id.distro_id}, {"version", id.distro_version}, {"arch", id.arch}, {"release", id.release}};
}

// Missing fields default to this host's, so {"release": "R"} means "this distro, release R".
Result<KernelIdentity> identity_from_json(const nlohmann::json& j, const KernelIdentity& host) {
  if (j.is_null()) return host;
  if (!j.is_object()) return make_error(Errc::invalid_argument, "kernel must be an object");
  KernelIdentity id = host;
  auto field = [&](const char* name, std::string* out) -> Status {
    if (!j.contains(name)) return {};
    if (!j[name].is_string()) return make_error(Errc::invalid_argument, std::string("kernel.") + name + " must be a string");
    *out = j[name].get<std::string>();
    return {};
  };
  BTFD_TRY_VOID(field("distro", &id.distro_id));
  BTFD_TRY_VOID(field("version", &id.distro_version));
  BTFD_TRY_VOID(field("arch", &id.arch));
  BTFD_TRY_VOID(field("release", &id.release));
  BTFD_TRY_VOID(validate_identity(id));
  return id;
}

nlohmann::json answer_json(const BtfAnswer& a) {
  nlohmann::json j = {{"fd", 0}, {"path", a.blob.path}, {"sha256", to_hex(a.blob.digest)}, {"size", a.blob.size},
                      {"source", a.source}, {"cached", a.cached}, {"exact", a.exact}, {"minimized", a.minimized},
                      {"kernel", identity_json(a.kernel)}};
  if (a.minimized && a.report) j["relocations"] = a.relocations;
  if (!a.compat.empty()) {
    j.erase("path");  // no cache file holds the rewritten bytes
    j["compat"] = a.compat;
  }
  return j;
}

namespace {
// Failures are marked with their domain where it is known (util/result.hpp),
// so the wire name says what failed (proto::error_name): the hub path's are
// the hub's (a mirror that answered with something btfd refuses is
// HubRejected, one that could not be reached HubUnreachable) unless a deeper
// layer said otherwise (a full cache while downloading is the store's).
Error hub_domain(Error e) { return std::move(e).in(Domain::hub); }
Error store_domain(Error e) { return std::move(e).in(Domain::store); }
template <typename T>
Result<T> in_store(Result<T> r) {
  if (!r) return store_domain(std::move(r).error());
  return r;
}
}  // namespace

static hub::Options hub_options(const Config& c) {
  hub::Options o;
  o.mirrors = c.mirrors;
  o.download.connect_timeout_ms = static_cast<long>(c.connect_timeout_ms);
  o.download.total_timeout_ms = static_cast<long>(c.timeout_ms);
  o.download.low_speed_time_s = static_cast<long>(c.stall_timeout_sec);
  o.download.max_bytes = c.max_download;
  o.temp_dir = c.cache_dir;  // staging on the same file system as the store
  o.verify_checksums = c.verify_checksums;
  o.transports = c.transports;
  o.sums_cache = c.cache_dir + "/sums";  // SHA256SUMS with their validators (asked for conditionally)
  o.extract.max_output_bytes = c.max_kernel_size;
  return o;
}

static debuginfo::GeneratorOptions debuginfo_options(const Config& c) {
  debuginfo::GeneratorOptions o;
  o.enabled = c.debuginfo_enable;
  o.host_root = c.host_root;
  o.pahole.path = c.pahole_path;
  o.pahole.memory_bytes = c.pahole_memory;
  o.pahole.wall = std::chrono::seconds(std::clamp<uint64_t>(c.pahole_sec, 1, 86400));
  o.pahole.max_output = c.max_kernel_size;
  o.pahole.tmp_dir = c.cache_dir;  // the cache's file system, where its temp files are cleaned up
  // A call waits for the running generation at most as long as one may take.
  o.queue_wait = o.pahole.wall;
  o.retry_after = std::chrono::seconds(c.negative_ttl_sec);
  return o;
}

// "Not in hub" holds for the mirrors that said it: the key is their list, in order.
static std::string mirrors_fingerprint(const std::vector<std::string>& mirrors) {
  std::string joined;
  for (const auto& m : mirrors) joined += hub::mirror_base_url(m) + "\n";
  return to_hex(sha256(std::span(reinterpret_cast<const uint8_t*>(joined.data()), joined.size())));
}

Service::Service(Config cfg, std::unique_ptr<store::Store> store, HostInfo host, Stats& stats)
    : cfg_(std::move(cfg)),
      store_(std::move(store)),
      hub_(std::make_unique<hub::Hub>(hub_options(cfg_), hub::fetch_helper_attempt(hub::default_fetch_helper()))),
      debuginfo_(std::make_unique<debuginfo::Generator>(debuginfo_options(cfg_))),
      debuginfod_attempt_(hub::fetch_helper_attempt(hub::default_fetch_helper())),
      host_(std::move(host)),
      mirrors_key_(mirrors_fingerprint(cfg_.mirrors)),
      stats_(stats) {
  // A killed btfd's debug-info downloads and pahole directories (never a live one's).
  if (size_t n = debuginfo::remove_stale_temps(cfg_.cache_dir))
    log_info("removed %zu stale debug-info temp file(s) from %s", n, cfg_.cache_dir.c_str());
  // An os-release the table cannot map (an ID with odd characters) stays as
  // it is: the native BTF needs no archive key, and hub requests fail on
  // their own with the reason.
  auto key = archive_key(host_.identity);
  host_key_ = key ? *key : ArchiveKey{host_.identity, true};
}

Result<ArchiveKey> Service::archive_key(const KernelIdentity& id) const {
  auto key = cfg_.distros.resolve(id);
  if (!key) return make_error(Errc::invalid_argument, "kernel " + id.to_string() + ": " + key.error().message);
  return key;
}

Result<store::KernelEntry> Service::obtain_kernel(const KernelIdentity& id, bool pin, const hub::ProgressFn& progress,
                                                  const std::function<Status()>& hub_gate) {
  if (id == host_key_.kernel && !host_.native_btf_path.empty()) {
    BTFD_TRY(auto bytes, read_file(host_.native_btf_path, 1ull << 30));
    BTFD_TRY(auto e, in_store(store_->put_kernel(id, bytes, store::Source::native, host_.native_btf_path, true)));
    ++stats_.native;
    return e;
  }
  bool gated = false;
  auto hub = obtain_from_hub(id, pin, progress, hub_gate, &gated);
  // Also when no mirror could be reached (an offline host): the kernel's own
  // debug info describes it exactly. The hub's answer stays the error when
  // there is no debug info either.
  if (hub || (hub.error().code != Errc::not_in_hub && hub.error().code != Errc::unreachable && !cfg_.mirrors.empty()))
    return hub;
  // Neither native nor in the hub: the kernel's own debug info, if any. It
  // costs a pahole run, so it is counted against the caller's hub budget
  // when the hub was not asked (a cached "not in hub").
  if (!gated && hub_gate) BTFD_TRY_VOID(hub_gate());
  return obtain_from_debuginfo(id, pin, progress, std::move(hub).error());
}

Result<store::KernelEntry> Service::obtain_from_hub(const KernelIdentity& id, bool pin, const hub::ProgressFn& progress,
                                                    const std::function<Status()>& hub_gate, bool* gated) {
  *gated = false;
  BTFD_TRY(auto negative, in_store(store_->find_negative(id, mirrors_key_)));
  if (negative)
    return make_error(Errc::not_in_hub, "the hub has no BTF for " + id.to_string() + " (cached answer of these mirrors; asked again in " +
                                            std::to_string(*negative - static_cast<int64_t>(::time(nullptr))) +
                                            " s, or now by btfctl get --refresh)");
  *gated = true;
  if (hub_gate) BTFD_TRY_VOID(hub_gate());
  auto pending = store_->begin_blob();
  if (!pending) return store_domain(std::move(pending).error());
  auto fetched = hub_->fetch(id, pending->fd(), progress);
  if (!fetched) {
    if (fetched.error().code == Errc::not_in_hub)
      (void)store_->put_negative(id, static_cast<int64_t>(::time(nullptr) + cfg_.negative_ttl_sec), fetched.error().message,
                                mirrors_key_);
    return hub_domain(std::move(fetched).error());
  }
  ++stats_.hub_fetches;
  stats_.hub_bytes += fetched->downloaded;
  log_info("fetched %s from %s (%s)", id.to_string().c_str(), fetched->url.c_str(),
           fetched->checksum_verified ? "matches the mirror's SHA256SUMS" : "the mirror publishes no checksum for it");
  // The digest btfd computed over the bytes it validated: not hashed again.
  auto committed = store_->commit_kernel(std::move(*pending), id, store::Source::hub, fetched->url, pin,
                                         fetched->digest ? &*fetched->digest : nullptr);
  if (!committed) return store_domain(std::move(committed).error());
  return committed;
}

Result<store::KernelEntry> Service::ensure_kernel(const KernelIdentity& id, bool pin, const hub::ProgressFn& progress,
                                                  bool* fetched, store::Blob* blob,
                                                  const std::function<Status()>& hub_gate) {
  *fetched = false;
  for (int round = 0; round < 2; ++round) {
    BTFD_TRY(auto hit, in_store(store_->find_kernel(id)));
    if (hit) {
      if (round == 0) ++stats_.hits;
      if (pin && !hit->first.pinned) (void)store_->set_pinned(id, true);
      if (blob) *blob = std::move(hit->second);
      return hit->first;
    }
    if (round == 1) break;
    ++stats_.misses;
    bool ran = false;
    Result<store::KernelEntry> mine = make_error(Errc::internal, "not obtained");
    Status st = once("kernel:" + id.to_string(), [&] {
      mine = obtain_kernel(id, pin, progress, hub_gate);
      return mine ? Status() : Status(mine.error());
    }, &ran);
    if (!ran) {
      if (!st) return st.error();
      continue;  // the other request stored it: look it up again
    }
    if (mine) *fetched = true;
    return mine;
  }
  return make_error(Errc::internal, "kernel " + id.to_string() + " vanished from the cache right after it was stored");
}

Status Service::once(const std::string& key, const std::function<Status()>& work, bool* ran) {
  std::promise<Status> promise;
  std::shared_future<Status> waiting;
  {
    std::lock_guard lock(inflight_mu_);
    auto it = inflight_.find(key);
    if (it != inflight_.end()) waiting = it->second;
    else inflight_.emplace(key, promise.get_future().share());
  }
  if (waiting.valid()) {
    *ran = false;
    ++stats_.coalesced;
    return waiting.get();
  }
  *ran = true;
  Status st = work();
  std::lock_guard lock(inflight_mu_);
  promise.set_value(st);
  inflight_.erase(key);
  return st;
}

Result<std::shared_ptr<const btf::KernelBtf>> Service::hot_kernel(const store::KernelEntry& e) {
  std::string key = to_hex(e.digest);
  {
    std::lock_guard lock(hot_mu_);
    auto it = hot_.find(key);
    if (it != hot_.end()) {
      it->second.last_used = std::chrono::steady_clock::now();
      return it->second.kernel;
    }
  }
  BTFD_TRY(auto found, in_store(store_->find_kernel(e.id)));
  if (!found) return make_error(Errc::not_found, "kernel " + e.id.to_string() + " left the cache");
  // Mapped, not copied: a hot kernel shares the page cache with the blob.
  auto loaded = btf::KernelBtf::load(found->second.fd.get(), found->second.size);
  if (!loaded) {
    // Validated before it was stored, so this kernel came from an older btfd
    // (or the validation grew stricter): drop it and fetch it afresh next time,
    // rather than failing every request on it. It is not the client's fault.
    store_->drop_invalid(e.digest);
    return make_error(Errc::io, "the cached BTF of " + e.id.to_string() + " fails validation (" +
                                    loaded.error().message + "); it was dropped, ask again");
  }
  auto k = std::move(loaded).value();
  std::lock_guard lock(hot_mu_);
  hot_[key] = Hot{k, std::chrono::steady_clock::now()};
  // Over budget: drop the least recently used others.
  uint64_t total = 0;
  for (auto& [_, h] : hot_) total += h.kernel->memory_bytes();
  while (total > cfg_.hot_kernel_budget && hot_.size() > 1) {
    auto victim = hot_.end();
    for (auto it = hot_.begin(); it != hot_.end(); ++it)
      if (it->first != key && (victim == hot_.end() || it->second.last_used < victim->second.last_used)) victim = it;
    if (victim == hot_.end()) break;
    total -= victim->second.kernel->memory_bytes();
    hot_.erase(victim);
  }
  return k;
}

void Service::trim_hot(bool force) {
  std::lock_guard lock(hot_mu_);
  auto now = std::chrono::steady_clock::now();
  bool dropped = false;
  for (auto it = hot_.begin(); it != hot_.end();) {
    if (force || now - it->second.last_used > std::chrono::seconds(cfg_.hot_kernel_idle_sec)) {
      it = hot_.erase(it);
      dropped = true;
    } else {
      ++it;
    }
  }
  // What the minimizer left in the worker threads' arenas goes back too.
  if (dropped) malloc_trim(0);
}

uint64_t Service::hot_bytes() const {
  std::lock_guard lock(hot_mu_);
  uint64_t total = 0;
  for (auto& [_, h] : hot_) total += h.kernel->memory_bytes();
  return total;
}

// How the minimizer (and a stored report) names a client's object.
static std::string minimizer_name(const Digest& d) { return "object " + to_hex(d).substr(0, 12); }

ObjectBytes::ObjectBytes(std::vector<uint8_t> copy) : copy_(std::move(copy)), digest_(sha256(copy_)) {}

ObjectBytes::ObjectBytes(ObjectBytes&& other) noexcept
    : copy_(std::move(other.copy_)),
      digest_(other.digest_),
      sealed_(std::move(other.sealed_)),
      size_(std::exchange(other.size_, 0)),
      map_(std::exchange(other.map_, nullptr)) {}

ObjectBytes& ObjectBytes::operator=(ObjectBytes&& other) noexcept {
  if (this != &other) {
    if (map_) ::munmap(map_, size_);
    copy_ = std::move(other.copy_);
    digest_ = other.digest_;
    sealed_ = std::move(other.sealed_);
    size_ = std::exchange(other.size_, 0);
    map_ = std::exchange(other.map_, nullptr);
  }
  return *this;
}

ObjectBytes::~ObjectBytes() {
  if (map_) ::munmap(map_, size_);
}

Result<ObjectBytes> ObjectBytes::take(ClientObject& o) {
  if (o.loaded) return ObjectBytes(std::move(o.bytes));  // a pipe, read by the loop
  constexpr int kFixed = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW;
  int seals = ::fcntl(o.fd.get(), F_GET_SEALS);
  struct stat st {};
  if (seals >= 0 && (seals & kFixed) == kFixed && ::fstat(o.fd.get(), &st) == 0 &&
      static_cast<uint64_t>(st.st_size) == o.size_limit && o.size_limit > 0) {
    // The seals make the bytes hashed now the bytes mapped later.
    if (auto d = sha256_fd(o.fd.get())) {
      ObjectBytes b;
      b.digest_ = *d;
      b.sealed_ = std::move(o.fd);
      b.size_ = o.size_limit;
      return b;
    }
  }
  // A regular file the client passed: never more than the size it had when
  // the call was admitted.
  auto bytes = pread_all(o.fd.get(), o.size_limit);
  if (!bytes && bytes.error().code == Errc::too_large) return make_error(Errc::too_large, "grew while btfd was reading it");
  if (!bytes) return make_error(Errc::invalid_argument, bytes.error().message);
  return ObjectBytes(std::move(bytes).value());
}

Result<std::span<const uint8_t>> ObjectBytes::bytes() {
  if (sealed_) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED | MAP_POPULATE, sealed_.get(), 0);
    if (p != MAP_FAILED) {
      map_ = p;
    } else {
      // Out of address space or map count: a copy of the same sealed bytes.
      auto copy = pread_all(sealed_.get(), size_);
      if (!copy) return make_error(Errc::invalid_argument, copy.error().message);
      copy_ = std::move(copy).value();
    }
    sealed_.reset();
  }
  if (map_) return std::span<const uint8_t>(static_cast<const uint8_t*>(map_), size_);
  return std::span<const uint8_t>(copy_);
}

Result<ObjectBytes> Service::read_object(ClientObject& o) { return ObjectBytes::take(o); }

btf::MinimizeOptions Service::minimize_options(const std::atomic<bool>* cancelled) const {
  btf::MinimizeOptions o;
  btf::MinimizeBudget& b = o.budget;
  b.max_relocations = static_cast<uint32_t>(std::min<uint64_t>(cfg_.max_relocations, UINT32_MAX));
  b.max_report_bytes = cfg_.max_report_bytes;
  b.max_memory_bytes = cfg_.minimize_memory;
  b.deadline_sec = cfg_.minimize_sec;
  b.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(std::min<uint64_t>(cfg_.minimize_sec, 86400));
  b.cancelled = cancelled;
  return o;
}

Result<store::Blob> Service::minimized_for(const store::KernelEntry& e,
                                           std::vector<std::pair<Digest, ObjectBytes>>& objs, bool* computed,
                                           nlohmann::json* summary, const std::atomic<bool>* cancelled) {
  std::vector<Digest> digests;
  for (auto& [d, _] : objs) digests.push_back(d);
  *computed = false;
  // Round 0 looks and computes (or waits for the same work of another call);
  // round 1 finds what that other call stored. A shared run cancelled for its
  // own caller is not this call's answer: it is computed again, at most once.
  bool retried = false;
  for (int round = 0; round < 2; ++round) {
    BTFD_TRY(auto hit, in_store(store_->find_minimized(e.digest, digests)));
    if (hit) {
      if (round == 0) ++stats_.minimized_hits;
      // The stored report is parsed only for a caller that wants it.
      if (summary && !hit->report.empty()) *summary = nlohmann::json::parse(hit->report, nullptr, false);
      if (summary && summary->is_discarded()) *summary = nullptr;
      return std::move(hit->blob);
    }
    if (round == 1) break;
    // Calls coalesced on one run may list the same objects in other orders:
    // the run's error names its object by rank among the sorted digests,
    // and each call maps that back to its own index.
    std::vector<Digest> sorted = digests;
    std::sort(sorted.begin(), sorted.end());
    auto to_rank = [&](Error err) {
      if (err.object >= 0 && static_cast<size_t>(err.object) < digests.size())
        err.object = static_cast<int>(std::lower_bound(sorted.begin(), sorted.end(), digests[err.object]) - sorted.begin());
      return err;
    };
    auto from_rank = [&](Error err) {
      if (err.object >= 0 && static_cast<size_t>(err.object) < sorted.size())
        err.object = static_cast<int>(std::find(digests.begin(), digests.end(), sorted[err.object]) - digests.begin());
      return err;
    };
    Result<store::Blob> mine = make_error(Errc::internal, "not computed");
    bool ran = false;
    Status st = once("min:" + to_hex(e.digest) + ":" + store::objects_key(sorted), [&] {
      mine = [&]() -> Result<store::Blob> {
        BTFD_TRY(auto kernel, hot_kernel(e));
        std::vector<btf::ObjectInput> inputs;
        for (size_t i = 0; i < objs.size(); ++i) {
          auto bytes = objs[i].second.bytes();
          if (!bytes) return std::move(bytes).error().about_object(static_cast<int>(i));
          inputs.push_back({minimizer_name(objs[i].first), *bytes, false});
        }
        auto result = btf::minimize(*kernel, inputs, minimize_options(cancelled));
        if (!result) {
          // Whatever minimize() rejects came from the client's objects
          // (its index is among `objs`, this call's order); a bug stays one.
          Error err = std::move(result).error();
          return err.code == Errc::internal ? err : std::move(err).in(Domain::object);
        }
        nlohmann::json report = btf::compact_report(*result);
        ++stats_.minimized;
        // Names in the report come from the client's object: never let
        // invalid UTF-8 in them throw.
        auto stored = in_store(store_->put_minimized(
            e.digest, digests, result->btf, report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
        if (summary) *summary = std::move(report);
        return stored;
      }();
      return mine ? Status() : Status(to_rank(mine.error()));
    }, &ran);
    if (!ran) {
      if (!st && st.error().code == Errc::cancelled && !retried && !(cancelled && *cancelled)) {
        retried = true;
        --round;
        continue;
      }
      if (!st) return from_rank(st.error());
      continue;
    }
    if (mine) *computed = true;
    return mine;
  }
  return make_error(Errc::internal, "minimized BTF vanished from the cache right after it was stored");
}

std::optional<BtfAnswer> Service::try_cached(const KernelIdentity& asked) {
  auto key = archive_key(asked);
  if (!key) return std::nullopt;  // the worker path reports why
  const KernelIdentity& id = key->kernel;
  auto hit = store_->find_kernel(id, true);
  if (!hit || !*hit) return std::nullopt;
  ++stats_.hits;
  BtfAnswer a;
  a.kernel = id;
  a.source = store::source_name((*hit)->first.source);
  a.cached = true;
  a.exact = key->exact;
  a.blob = std::move((*hit)->second);
  return a;
}

bool Service::btf_at_hand(const KernelIdentity& asked) {
  auto key = archive_key(asked);
  if (!key) return true;  // answered at once, by name
  if (key->kernel == host_key_.kernel && !host_.native_btf_path.empty()) return true;
  // A busy or failing index counts as "not at hand": a fetch in the hub lane
  // at worst waits there, while one on the Workers could hold them all.
  auto has = store_->has_kernel(key->kernel);
  return has && *has;
}

void Service::remember_objects(std::vector<std::pair<Digest, ObjectBytes>>& objs,
                               const std::vector<ClientObject>& objects) {
  for (size_t i = 0; i < objs.size(); ++i) {
    // The warm path needs no bytes: a sealed memfd stays unmapped.
    if (store_->touch_remembered(objs[i].first, objects[i].name, objects[i].uid)) continue;
    if (auto bytes = objs[i].second.bytes())
      (void)store_->remember_object(objs[i].first, *bytes, objects[i].name, objects[i].uid);
  }
}

Result<BtfAnswer> Service::get_btf(const KernelIdentity& asked, std::vector<ClientObject> objects,
                                   const hub::ProgressFn& progress, const std::function<Status()>& hub_gate,
                                   const GetBtfOptions& opts, const std::atomic<bool>* cancelled) {
  BTFD_TRY(ArchiveKey key, archive_key(asked));
  const KernelIdentity& id = key.kernel;
  // Read the objects first: a bad object should not cost a hub download.
  std::vector<std::pair<Digest, ObjectBytes>> objs;
  for (size_t i = 0; i < objects.size(); ++i) {
    auto bytes = read_object(objects[i]);
    if (!bytes) return std::move(bytes).error().about_object(static_cast<int>(i));
    objects[i].fd.reset();
    Digest d = bytes->digest();
    objs.emplace_back(d, std::move(bytes).value());
  }
  // GetBtf's "refresh": an earlier "not in hub" must not answer. The lookup
  // that follows is still counted against the caller's hub budget.
  if (opts.ask_hub_again) (void)store_->clear_negative(id);
  // An imported bundle's entry for these objects (service_import.cpp) answers
  // without the full kernel: on an air-gapped host there is none.
  if (!objs.empty()) {
    std::vector<Digest> digests;
    for (auto& [d, _] : objs) digests.push_back(d);
    if (auto imported = imported_answer(id, std::move(digests))) {
      imported->exact = key.exact;
      imported->report = opts.report;
      remember_objects(objs, objects);
      return std::move(*imported);
    }
  }
  bool fetched = false;
  BtfAnswer a;
  BTFD_TRY(auto entry, ensure_kernel(id, false, progress, &fetched, &a.blob, hub_gate));
  a.kernel = id;
  a.exact = key.exact;
  a.source = store::source_name(entry.source);
  if (objs.empty()) {
    if (!a.blob.fd) {  // freshly fetched: open what was just stored
      BTFD_TRY(auto hit, in_store(store_->find_kernel(id)));
      if (!hit) return make_error(Errc::internal, "kernel " + id.to_string() + " left the cache");
      a.blob = std::move(hit->second);
    }
    a.cached = !fetched;
    return a;
  }
  bool computed = false;
  if (cancelled && *cancelled) return make_error(Errc::cancelled, "cancelled: the client went away or btfd is stopping");
  a.report = opts.report;
  auto blob = minimized_for(entry, objs, &computed, opts.report ? &a.relocations : nullptr, cancelled);
  // A coalesced run may have listed the objects in another order: its
  // error names the object by the digest it computed for, mapped back here.
  if (!blob) return std::move(blob).error();
  a.blob = std::move(blob).value();
  a.minimized = true;
  a.cached = !fetched && !computed;
  remember_objects(objs, objects);
  return a;
}

Result<BtfAnswer> Service::get_btf_by_digests(const KernelIdentity& asked, const std::vector<Digest>& digests,
                                              int64_t uid, const GetBtfOptions& opts) {
  BTFD_TRY(ArchiveKey key, archive_key(asked));
  const KernelIdentity& id = key.kernel;
  auto needed = [](std::string why, int object = -1) {
    Error e = make_error(Errc::not_found, std::move(why) + "; send the objects").in(Domain::object);
    return object >= 0 ? std::move(e).about_object(object) : e;
  };
  // Only what this uid sent, btfd hashing it then, may be named by digest:
  // nobody learns anything of an object someone else sent.
  for (size_t i = 0; i < digests.size(); ++i) {
    BTFD_TRY(bool mine, in_store(store_->touch_remembered_by(digests[i], uid)));
    if (!mine) return needed("btfd does not remember uid " + std::to_string(uid) + " sending this object",
                             static_cast<int>(i));
  }
  if (auto imported = imported_answer(id, digests)) {
    imported->exact = key.exact;
    imported->report = opts.report;
    return std::move(*imported);
  }
  BTFD_TRY(auto kernel, in_store(store_->find_kernel(id)));
  if (!kernel) return needed("kernel " + id.to_string() + " is not in the cache");
  BTFD_TRY(auto hit, in_store(store_->find_minimized(kernel->first.digest, digests)));
  if (!hit) return needed("no BTF of kernel " + id.to_string() + " minimized for these objects in the cache");
  ++stats_.hits;
  ++stats_.minimized_hits;
  BtfAnswer a;
  a.kernel = id;
  a.exact = key.exact;
  a.source = store::source_name(kernel->first.source);
  a.cached = true;
  a.minimized = true;
  a.blob = std::move(hit->blob);
  a.report = opts.report;
  if (opts.report && !hit->report.empty()) {
    a.relocations = nlohmann::json::parse(hit->report, nullptr, false);
    if (a.relocations.is_discarded()) a.relocations = nullptr;
  }
  return a;
}

Result<nlohmann::json> Service::prefetch(const KernelIdentity& asked, bool pin, const hub::ProgressFn& progress) {
  ++stats_.prefetches;
  auto key = archive_key(asked);
  if (!key) {
    ++stats_.prefetch_failures;
    return std::move(key).error();
  }
  const KernelIdentity& id = key->kernel;
  // An explicit prefetch is someone asking the hub now: an earlier "not in
  // hub" must not answer for it.
  (void)store_->clear_negative(id);
  bool fetched = false;
  auto entry = ensure_kernel(id, pin, progress, &fetched);
  if (!entry) {
    ++stats_.prefetch_failures;
    return std::move(entry).error();
  }
  auto window = static_cast<int64_t>(::time(nullptr)) - static_cast<int64_t>(cfg_.object_window_days * 86400);
  // One remembered object in memory at a time (each at most MaxObjectSize and
  // RememberedObjectBytesPerUser), however many are remembered.
  size_t minimized = 0, failed = 0;
  BTFD_TRY_VOID(store_->for_each_recent_object(window, [&](const Digest& d, std::vector<uint8_t> bytes) -> Status {
    std::vector<std::pair<Digest, ObjectBytes>> one;
    one.emplace_back(d, ObjectBytes(std::move(bytes), d));
    bool computed = false;
    if (minimized_for(*entry, one, &computed, nullptr)) ++minimized;
    else ++failed;
    return {};
  }));
  return nlohmann::json{{"kernel", identity_json(id)}, {"exact", key->exact}, {"fetched", fetched}, {"source", store::source_name(entry->source)},
                        {"size", entry->size}, {"sha256", to_hex(entry->digest)}, {"pinned", pin || entry->pinned},
                        {"objects_minimized", minimized}, {"objects_failed", failed}};
}

Result<int> Service::release_pins(const std::vector<std::string>& module_dirs) {
  auto mtime = [&](const std::string& release) -> int64_t {  // -1: not installed
    for (const auto& d : module_dirs) {
      struct stat st {};
      if (::stat(host_path(cfg_.host_root, d + "/" + release).c_str(), &st) == 0) return st.st_mtime;
    }
    return -1;
  };
  const KernelIdentity& host = host_key_.kernel;
  int64_t running = mtime(host.release);
  BTFD_TRY(auto l, in_store(store_->list()));
  int released = 0;
  for (const auto& k : l.kernels) {
    if (!k.pinned) continue;
    // A row an older btfd stored under os-release's spelling (rhel/8.4) is
    // never asked for again now that requests use the archive's (rhel/8):
    // its pin would keep it forever.
    if (auto key = archive_key(k.id); key && !(key->kernel == k.id)) {
      BTFD_TRY_VOID(store_->set_pinned(k.id, false));
      ++released;
      continue;
    }
    if (k.id == host || k.id.distro_id != host.distro_id || k.id.distro_version != host.distro_version ||
        k.id.arch != host.arch)
      continue;
    int64_t installed = mtime(k.id.release);
    if (installed < 0 || (running >= 0 && installed < running)) {
      BTFD_TRY_VOID(store_->set_pinned(k.id, false));
      ++released;
    }
  }
  return released;
}

Result<nlohmann::json> Service::refresh() {
  const KernelIdentity& host = host_key_.kernel;
  auto releases = upgrade::installed_releases(cfg_.host_root, cfg_.module_dirs);
  if (std::find(releases.begin(), releases.end(), host.release) == releases.end()) releases.push_back(host.release);
  nlohmann::json kernels = nlohmann::json::array();
  for (const auto& release : releases) {
    KernelIdentity id = host;
    id.release = release;
    nlohmann::json item = {{"kernel", identity_json(id)}};
    if (!validate_identity(id)) {
      item["outcome"] = "skipped";  // not a name the hub could have (e.g. a stray directory)
    } else if (release == host.release ? !host_.native_btf_path.empty()
                                       : !upgrade::native_btf_for(cfg_.host_root, cfg_.boot_dir, release).empty()) {
      item["outcome"] = "native";
    } else if (auto hit = store_->find_kernel(id); hit && *hit) {
      item["outcome"] = "cached";
    } else {
      (void)store_->clear_negative(id);
      auto r = prefetch(id, true);
      if (r) {
        item["outcome"] = r->value("source", "") == "debuginfo" ? "generated" : "fetched";
      } else {
        item["outcome"] = r.error().code == Errc::not_in_hub ? "not-in-hub" : "error";
        item["message"] = r.error().message;
      }
    }
    kernels.push_back(std::move(item));
  }
  BTFD_TRY(int unpinned, release_pins(cfg_.module_dirs));
  BTFD_TRY(auto verified, verify());
  return nlohmann::json{{"kernels", std::move(kernels)}, {"unpinned", unpinned}, {"verified", std::move(verified)}};
}

Result<nlohmann::json> Service::list() {
  BTFD_TRY(auto l, in_store(store_->list()));
  nlohmann::json kernels = nlohmann::json::array(), minimized = nlohmann::json::array(),
                 objects = nlohmann::json::array();
  for (const auto& k : l.kernels)
    kernels.push_back({{"kernel", identity_json(k.id)}, {"source", store::source_name(k.source)}, {"origin", k.origin},
                       {"sha256", to_hex(k.digest)}, {"size", k.size}, {"fetched_at", k.fetched_at},
                       {"last_used", k.last_used}, {"pinned", k.pinned}});
  for (const auto& m : l.minimized) {
    nlohmann::json objs = nlohmann::json::array();
    for (const auto& d : m.objects) objs.push_back(to_hex(d));
    minimized.push_back({{"kernel_sha256", to_hex(m.kernel)}, {"objects", objs}, {"sha256", to_hex(m.digest)},
                         {"size", m.size}, {"last_used", m.last_used}});
  }
  for (const auto& o : l.objects)
    objects.push_back({{"sha256", to_hex(o.digest)}, {"size", o.size}, {"last_requested", o.last_requested},
                       {"name", o.name}});
  return nlohmann::json{{"kernels", kernels}, {"minimized", minimized}, {"objects", objects}};
}

nlohmann::json Service::mirror_stats() const {
  nlohmann::json mirrors = nlohmann::json::array();
  for (const auto& m : hub_->stats()) {
    mirrors.push_back({{"base", m.base}, {"requests", m.requests}, {"successes", m.successes},
                       {"not_found", m.not_found}, {"errors", m.errors}, {"timeouts", m.timeouts},
                       {"bytes", m.bytes}, {"skipped", m.skipped}, {"healthy", m.healthy()}});
    if (!m.last_failure.empty()) mirrors.back()["last_failure"] = m.last_failure;
    if (!m.problem.empty()) mirrors.back()["problem"] = m.problem;
  }
  return mirrors;
}

nlohmann::json Service::status() {
  auto u = store_->usage();
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count();
  return {{"version", BTFD_VERSION},
          {"uptime_sec", uptime},
          {"host", identity_json(host_key_.kernel)},
          {"host_exact", host_key_.exact},
          {"native_btf", !host_.native_btf_path.empty()},
          {"cache", {{"directory", store_->dir()}, {"used", u.bytes}, {"budget", u.budget},
                     {"blob_bytes", u.blob_bytes}, {"row_bytes", u.row_bytes}, {"pinned_bytes", u.pinned_bytes},
                     {"kernels", u.kernels},
                     {"minimized", u.minimized}, {"objects", u.objects}, {"negative", u.negative},
                     {"corrupt_blobs", u.corrupt_blobs}, {"index_rebuilt", u.index_rebuilt}}},
          {"hot_kernels_bytes", hot_bytes()},
          {"mirrors", mirror_stats()},
          {"debuginfo", debuginfo_status()},
          {"prefetch", {{"runs", stats_.prefetches.load()}, {"failures", stats_.prefetch_failures.load()},
                        {"kernels_seen", stats_.upgrades_seen.load()}}}};
}

Result<nlohmann::json> Service::verify() {
  BTFD_TRY(auto r, in_store(store_->verify_all()));
  if (r.corrupt) {
    trim_hot(true);  // a hot kernel may be mapped from a blob just dropped
    log_warning("verify: %llu of %llu cached blobs were damaged and dropped", static_cast<unsigned long long>(r.corrupt),
                static_cast<unsigned long long>(r.checked));
  }
  return nlohmann::json{{"checked", r.checked}, {"corrupt", r.corrupt}, {"bytes", r.bytes}};
}

Result<nlohmann::json> Service::gc() {
  BTFD_TRY(auto r, in_store(store_->gc()));
  trim_hot(true);
  // Cleaning up by hand includes cached "not in hub" answers: the next
  // request asks the hub again.
  BTFD_TRY(uint64_t negative, in_store(store_->clear_all_negative()));
  return nlohmann::json{{"removed_entries", r.removed_entries}, {"removed_blobs", r.removed_blobs},
                        {"freed_bytes", r.freed_bytes}, {"forgotten_not_in_hub", negative},
                        {"over_budget", r.over_budget}};
}

}  // namespace btfd::server
