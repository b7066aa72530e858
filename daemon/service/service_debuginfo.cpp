// SPDX-License-Identifier: GPL-2.0-or-later
// A kernel neither native nor in the hub: its BTF generated from its own
// debug info (engine/debuginfo), installed first, then from a debuginfod
// server by the running kernel's build-id, stored with source "debuginfo".
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <utility>

#include "debuginfo/build_id.hpp"
#include "debuginfo/debug_files.hpp"
#include "debuginfo/temp_files.hpp"
#include "service/service.hpp"
#include "util/log.hpp"

namespace btfd::server {
namespace {

// A debug file being downloaded: a temp file in the cache directory (its file
// system, its space), removed however the try ends.
struct TempFile {
  UniqueFd fd;
  std::string path;
  TempFile() = default;
  TempFile(TempFile&& o) noexcept : fd(std::move(o.fd)), path(std::exchange(o.path, {})) {}
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

Result<TempFile> temp_in(const std::string& dir) {
  TempFile t;
  t.path = dir + "/" + debuginfo::kDownloadPrefix + "XXXXXX";
  int fd = ::mkostemp(t.path.data(), O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    t.path.clear();
    return sys_error(e, "cannot create a temp file in \"" + dir + "\"");
  }
  t.fd = UniqueFd(fd);
  BTFD_TRY_VOID(debuginfo::lock_in_use(t.fd.get()));
  return t;
}

}  // namespace

// Each configured server in turn, by build-id, through btfd-fetch (the one
// process that speaks HTTP); the first debug file that carries the build-id
// and yields a kernel's BTF wins. Errc::not_found when no server has it.
Result<debuginfo::Generated> Service::from_debuginfod(const std::string& build_id, const hub::ProgressFn& progress) {
  std::string answers;
  std::optional<Error> worst;
  for (size_t i = 0; i < cfg_.debuginfod_urls.size(); ++i) {
    std::string base = cfg_.debuginfod_urls[i];
    while (!base.empty() && base.back() == '/') base.pop_back();
    hub::AttemptRequest req;
    req.kind = hub::kKindDebuginfo;
    req.url = base + "/buildid/" + build_id + "/debuginfo";
    req.release = build_id;
    req.download.connect_timeout_ms = static_cast<long>(cfg_.connect_timeout_ms);
    req.download.total_timeout_ms = static_cast<long>(std::min<uint64_t>(cfg_.debuginfod_timeout_sec, 86400) * 1000);
    req.download.low_speed_time_s = static_cast<long>(cfg_.stall_timeout_sec);
    req.download.max_bytes = cfg_.debuginfod_max_size;
    req.temp_dir = cfg_.cache_dir;
    if (i < cfg_.debuginfod_transports.size()) req.transport = cfg_.debuginfod_transports[i];
    BTFD_TRY(TempFile file, temp_in(cfg_.cache_dir));
    hub::FetchFailure failure = hub::FetchFailure::fatal;
    auto got = debuginfod_attempt_(req, file.fd.get(), progress, &failure);
    Result<debuginfo::Generated> g = got ? debuginfo_->kernel_from_file(file.path, req.url, build_id)
                                         : Result<debuginfo::Generated>(std::move(got).error());
    if (g) return g;
    if (g.error().code == Errc::not_found) {
      answers += (answers.empty() ? "" : ", ") + base + " has none";
      continue;
    }
    Error e = std::move(g).error().wrap("debuginfod \"" + base + "\"");
    if (e.code == Errc::no_space || e.code == Errc::cancelled) return e;  // the next server cannot help
    log_warning("%s", e.message.c_str());
    worst = std::move(e);
  }
  if (worst) return std::move(*worst);
  return make_error(Errc::not_found, "debuginfod: " + answers + " (build-id " + build_id + ")");
}

Result<store::KernelEntry> Service::obtain_from_debuginfo(const KernelIdentity& id, bool pin,
                                                          const hub::ProgressFn& progress, Error hub_error) {
  // Debug files are this host's: a kernel of another distribution (or
  // version, or architecture) asked for by name cannot be among them.
  const KernelIdentity& host = host_key_.kernel;
  if (id.distro_id != host.distro_id || id.distro_version != host.distro_version || id.arch != host.arch)
    return std::move(hub_error).in(Domain::hub);
  // The build-id is known for the running kernel only: its debug file must
  // carry it (a stale -dbg package of an earlier build is refused).
  std::optional<std::string> build_id;
  if (id.release == host.release) {
    auto running = debuginfo::running_build_id(cfg_.host_root);
    if (running) build_id = *running;
    else log_warning("%s", running.error().message.c_str());
  }
  auto generated = debuginfo_->kernel_from_installed(id.release, build_id);
  if (!generated && generated.error().code == Errc::not_found) {
    // Nothing installed: debuginfod, for the kernel whose build-id btfd knows.
    std::string why = generated.error().message;
    if (cfg_.debuginfod_urls.empty()) {
      why += "; debuginfod off";
    } else if (!build_id) {
      why += "; debuginfod not asked: only the running kernel's build-id is known";
    } else {
      generated = from_debuginfod(*build_id, progress);
      if (!generated && generated.error().code == Errc::not_found) why += "; " + generated.error().message;
    }
    // Say where btfd looked, after what the hub said.
    if (!generated && generated.error().code == Errc::not_found)
      return make_error(hub_error.code, hub_error.message + "; " + why).in(Domain::hub);
  }
  if (!generated) {
    ++stats_.debuginfo_failures;
    return std::move(generated).error().wrap("the hub has no BTF for " + id.to_string() + " and generating it failed").in(
        Domain::hub);
  }
  ++stats_.debuginfo_generated;
  std::string origin = generated->origin();
  log_info("generated the BTF of %s: %s", id.to_string().c_str(), origin.c_str());
  auto e = store_->put_kernel(id, generated->btf, store::Source::debuginfo, origin, pin);
  if (!e) return std::move(e).error().in(Domain::store);
  // A "not in hub" answer does not hold for a kernel btfd now has.
  (void)store_->clear_negative(id);
  return e;
}

nlohmann::json module_json(const ModuleAnswer& m, size_t fd_index) {
  return {{"name", m.name}, {"fd", fd_index}, {"size", m.blob.size}, {"sha256", to_hex(m.blob.digest)},
          {"origin", m.origin}, {"cached", m.cached}};
}

namespace {
template <typename T>
Result<T> in_store(Result<T> r) {
  if (!r) return std::move(r).error().in(Domain::store);
  return r;
}

// What a module's split BTF is filed under, beside its kernel's minimized
// entries: no object hashes to the digest of this text.
Digest module_digest(const std::string& canonical) {
  std::string key = "btfd module split BTF:" + canonical;
  return sha256(std::span(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
}
std::string origin_of(const std::string& report) {
  auto j = nlohmann::json::parse(report, nullptr, false);
  if (j.is_object() && j.contains("origin") && j["origin"].is_string()) return j["origin"].get<std::string>();
  return "";
}
}  // namespace

Result<std::vector<ModuleAnswer>> Service::module_btfs(const KernelIdentity& asked, const std::vector<std::string>& names) {
  BTFD_TRY(ArchiveKey key, archive_key(asked));
  const KernelIdentity& id = key.kernel;
  const KernelIdentity& host = host_key_.kernel;
  if (id.distro_id != host.distro_id || id.distro_version != host.distro_version || id.arch != host.arch)
    return make_error(Errc::not_in_hub, "module BTF comes from this host's debug files: " + id.to_string() +
                                            " is not a kernel of this host's distribution").in(Domain::hub);
  BTFD_TRY(auto kernel, in_store(store_->find_kernel(id)));
  if (!kernel) return make_error(Errc::internal, "kernel " + id.to_string() + " left the cache");
  const store::KernelEntry entry = kernel->first;
  std::optional<std::vector<uint8_t>> base;  // the kernel's bytes, read once if a module must be made
  std::vector<ModuleAnswer> out;
  for (const auto& name : names) {
    const std::string canonical = debuginfo::canonical_module_name(name);
    const std::vector<Digest> file_key = {module_digest(canonical)};
    // Round 0 looks and makes (or waits for the same module of another
    // call); round 1 finds what that call stored.
    bool done = false;
    for (int round = 0; round < 2 && !done; ++round) {
      BTFD_TRY(auto hit, in_store(store_->find_minimized(entry.digest, file_key)));
      if (hit) {
        out.push_back({name, std::move(hit->blob), origin_of(hit->report), round == 0});
        done = true;
        break;
      }
      if (round == 1) break;
      bool ran = false;
      Status st = once("module:" + to_hex(entry.digest) + ":" + canonical, [&]() -> Status {
        if (!base) {
          BTFD_TRY(auto bytes, pread_all(kernel->second.fd.get(), cfg_.max_kernel_size));
          base = std::move(bytes);
        }
        auto g = debuginfo_->module_from_installed(id.release, canonical, kernel->second.path, *base);
        if (!g) {
          ++stats_.debuginfo_failures;
          Error e = std::move(g).error();
          if (e.code == Errc::not_found) e.code = Errc::not_in_hub;  // nothing to make it from: KernelNotInHub
          return std::move(e).in(Domain::hub);
        }
        ++stats_.debuginfo_generated;
        nlohmann::json report = {{"module", canonical}, {"source", "debuginfo"}, {"origin", g->origin()}};
        log_info("generated the BTF of module %s of %s: %s", canonical.c_str(), id.to_string().c_str(),
                 g->origin().c_str());
        auto put = in_store(store_->put_minimized(entry.digest, file_key, g->btf,
                                                  report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
        if (!put) return std::move(put).error();
        out.push_back({name, std::move(*put), g->origin(), false});
        done = true;
        return {};
      }, &ran);
      if (!st) return st.error();
      if (ran) break;
    }
    if (!done) return make_error(Errc::internal, "module " + canonical + " vanished from the cache right after it was stored");
  }
  return out;
}

nlohmann::json Service::debuginfo_status() const {
  auto s = debuginfo_->stats();
  nlohmann::json j = {{"enabled", cfg_.debuginfo_enable},
                      {"pahole_version", s.pahole_version},
                      {"pahole", cfg_.pahole_path},
                      {"debuginfod", cfg_.debuginfod_urls},
                      {"generated", s.generated},
                      {"failures", s.failures}};
  if (!s.running.empty()) j["running"] = s.running;
  if (!s.last.empty()) j["last"] = s.last;
  if (!s.last_failure.empty()) j["last_failure"] = s.last_failure;
  return j;
}

}  // namespace btfd::server
