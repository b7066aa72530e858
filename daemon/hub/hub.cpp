// SPDX-License-Identifier: GPL-2.0-or-later
#include "hub/hub.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <random>
#include <thread>

#include "hub/btf_check.hpp"
#include "util/fd.hpp"

namespace btfd::hub {
namespace {

// An unnamed temp file: the kernel removes it however we exit.
Result<UniqueFd> staging_file(const std::string& dir_opt) {
  std::string dir = dir_opt;
  if (dir.empty()) {
    const char* t = std::getenv("TMPDIR");
    dir = t && *t ? t : "/var/tmp";
  }
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return UniqueFd(fd);
  std::string tmpl = dir + "/btfd-download-XXXXXX";
  fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return sys_error(errno, "cannot create a download file in \"" + dir + "\"");
  ::unlink(tmpl.c_str());
  return UniqueFd(fd);
}

long jittered(long ms) {
  thread_local std::mt19937 rng{std::random_device{}()};
  return ms / 2 + static_cast<long>(rng() % static_cast<unsigned long>(ms + 1));
}

}  // namespace

Hub::Hub(Options opts) : opts_(std::move(opts)) {
  for (const auto& m : opts_.mirrors) {
    Mirror mirror;
    mirror.stats.base = mirror_base_url(m);
    mirrors_.push_back(std::move(mirror));
  }
}

std::string Hub::archive_url(const std::string& mirror, const KernelIdentity& id) {
  return mirror_base_url(mirror) + "/" + id.hub_path() + ".btf.tar.xz";
}

void Hub::record(size_t index, bool ok, const Error* error, FetchFailure failure, uint64_t bytes) {
  std::lock_guard lock(mu_);
  Mirror& m = mirrors_[index];
  ++m.stats.requests;
  m.stats.bytes += bytes;
  if (ok || failure == FetchFailure::not_found) {
    // A mirror that answers "no such file" is healthy.
    m.consecutive_failures = 0;
    ok ? ++m.stats.successes : ++m.stats.not_found;
    return;
  }
  ++m.stats.errors;
  if (error && error->code == Errc::timeout) ++m.stats.timeouts;
  if (failure == FetchFailure::transient && ++m.consecutive_failures >= opts_.breaker_threshold)
    m.open_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(opts_.breaker_cooldown_ms);
}

Result<FetchResult> Hub::fetch_from(size_t index, const KernelIdentity& id, int out_fd, const ProgressFn& progress,
                                    FetchFailure* failure) {
  std::string url = archive_url(opts_.mirrors[index], id);
  BTFD_TRY(UniqueFd staging, staging_file(opts_.temp_dir));
  Result<DownloadResult> dl = make_error(Errc::internal, "no attempt made");
  for (int attempt = 1; attempt <= std::max(1, opts_.max_attempts); ++attempt) {
    if (::ftruncate(staging.get(), 0) < 0 || ::lseek(staging.get(), 0, SEEK_SET) < 0)
      return sys_error(errno, "cannot reset the download file");
    dl = download(url, staging.get(), opts_.download, progress, failure);
    record(index, dl.ok(), dl.ok() ? nullptr : &dl.error(), *failure, dl.ok() ? dl->bytes : 0);
    if (dl.ok() || *failure != FetchFailure::transient || attempt == opts_.max_attempts) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(jittered(opts_.backoff_initial_ms << (attempt - 1))));
  }
  if (!dl) return std::move(dl).error();
  *failure = FetchFailure::fatal;  // from here on, a bad payload: another mirror may do better
  if (::ftruncate(out_fd, 0) < 0 || ::lseek(out_fd, 0, SEEK_SET) < 0)
    return sys_error(errno, "cannot reset the output file");
  auto size = extract_btf(staging.get(), id.release, out_fd, opts_.extract);
  if (!size) return std::move(size).error().wrap("\"" + url + "\"");
  if (auto st = check_kernel_btf_fd(out_fd, opts_.extract.max_output_bytes); !st)
    return std::move(st).error().wrap("\"" + url + "\"");
  BTFD_TRY(Digest digest, sha256_fd(out_fd));
  *failure = FetchFailure::none;
  return FetchResult{url, mirrors_[index].stats.base, digest, *size, dl->bytes};
}

Result<FetchResult> Hub::fetch(const KernelIdentity& id, int out_fd, const ProgressFn& progress) {
  if (auto st = validate_identity(id); !st) return std::move(st).error();
  if (opts_.mirrors.empty()) return make_error(Errc::unreachable, "no hub mirrors are configured");
  int not_found = 0, unreachable = 0;
  std::optional<Error> bad_payload, network;
  // With every mirror's circuit open, try them anyway (half-open): failing fast
  // forever would keep a recovered hub unused until the cooldown ends.
  bool all_open = true;
  {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    for (const auto& m : mirrors_) all_open = all_open && now < m.open_until;
  }
  for (size_t i = 0; i < opts_.mirrors.size(); ++i) {
    {
      std::lock_guard lock(mu_);
      if (!all_open && std::chrono::steady_clock::now() < mirrors_[i].open_until) {
        ++mirrors_[i].stats.skipped;
        ++unreachable;
        if (!network) network = make_error(Errc::unreachable, "mirror \"" + mirrors_[i].stats.base + "\" is failing and skipped for now");
        continue;
      }
    }
    FetchFailure failure = FetchFailure::fatal;
    auto r = fetch_from(i, id, out_fd, progress, &failure);
    if (r) return r;
    if (failure == FetchFailure::not_found) {
      ++not_found;
    } else if (r.error().code == Errc::corrupt || r.error().code == Errc::too_large ||
               r.error().code == Errc::unsupported || r.error().code == Errc::permission) {
      if (!bad_payload) bad_payload = r.error();
    } else {
      ++unreachable;
      if (!network) network = r.error();
    }
  }
  (void)::ftruncate(out_fd, 0);  // never leave a partial payload for the caller to mistake
  if (bad_payload) return *bad_payload;
  if (unreachable) {
    Error e = *network;
    e.code = e.code == Errc::timeout ? Errc::timeout : Errc::unreachable;
    e.message = "hub unreachable: " + e.message;
    return e;
  }
  return make_error(Errc::not_in_hub, "no mirror has BTF for " + id.to_string() + " (" +
                                          std::to_string(not_found) + " mirror(s) answered \"not found\")");
}

std::vector<MirrorStats> Hub::stats() const {
  std::lock_guard lock(mu_);
  std::vector<MirrorStats> out;
  auto now = std::chrono::steady_clock::now();
  for (const auto& m : mirrors_) {
    out.push_back(m.stats);
    out.back().open_circuit = now < m.open_until;
  }
  return out;
}

}  // namespace btfd::hub
