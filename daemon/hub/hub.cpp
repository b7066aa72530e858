// SPDX-License-Identifier: GPL-2.0-or-later
#include "hub/hub.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <random>
#include <thread>

#include "util/fd.hpp"

namespace btfd::hub {
namespace {

long jittered(long ms) {
  thread_local std::mt19937 rng{std::random_device{}()};
  return ms / 2 + static_cast<long>(rng() % static_cast<unsigned long>(ms + 1));
}

}  // namespace

Hub::Hub(Options opts, AttemptFn attempt) : opts_(std::move(opts)), attempt_(std::move(attempt)) {
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
  AttemptRequest req;
  req.url = archive_url(opts_.mirrors[index], id);
  req.release = id.release;
  req.download = opts_.download;
  req.extract = opts_.extract;
  req.temp_dir = opts_.temp_dir;
  if (index < opts_.transports.size()) req.transport = opts_.transports[index];
  req.sums_cache = opts_.sums_cache;
  if (opts_.verify_checksums) {
    req.sums_url = mirror_base_url(opts_.mirrors[index]) + "/SHA256SUMS";
    req.sums_entry = id.hub_path() + ".btf.tar.xz";
  }
  Result<AttemptResult> r = make_error(Errc::internal, "no attempt made");
  for (int attempt = 1; attempt <= std::max(1, opts_.max_attempts); ++attempt) {
    r = attempt_(req, out_fd, progress, failure);
    // Only the transfer counts toward the mirror's health; a bad payload is not
    // a network failure.
    bool transfer_ok = r.ok() || *failure == FetchFailure::payload;
    record(index, transfer_ok, r.ok() ? nullptr : &r.error(), r.ok() ? FetchFailure::none : *failure,
           r.ok() ? r->downloaded : 0);
    if (r.ok() || *failure != FetchFailure::transient || attempt == opts_.max_attempts) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(jittered(opts_.backoff_initial_ms << (attempt - 1))));
  }
  if (!r) return std::move(r).error();
  // No digest here: the store hashes what it publishes, and once is enough.
  *failure = FetchFailure::none;
  return FetchResult{req.url, mirrors_[index].stats.base, r->size, r->downloaded, r->checksum_verified};
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
    // A local mirror whose directory is gone would answer "not found" for
    // every kernel: that is a broken mirror, not a kernel the hub lacks.
    if (std::string problem = mirror_problem(opts_.mirrors[i]); !problem.empty()) {
      record(i, false, nullptr, FetchFailure::fatal, 0);
      ++unreachable;
      if (!network) network = make_error(Errc::unreachable, "mirror \"" + mirrors_[i].stats.base + "\": " + problem);
      continue;
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
    // The message says which mirror and why; the error's name
    // (HubUnreachable) already says "unreachable", so it is not repeated.
    e.code = e.code == Errc::timeout ? Errc::timeout : Errc::unreachable;
    return e;
  }
  return make_error(Errc::not_in_hub, "no mirror has BTF for " + id.to_string() + " (" +
                                          std::to_string(not_found) + " mirror(s) answered \"not found\")");
}

std::vector<MirrorStats> Hub::stats() const {
  std::vector<MirrorStats> out;
  {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    for (const auto& m : mirrors_) {
      out.push_back(m.stats);
      out.back().open_circuit = now < m.open_until;
    }
  }
  // Health is what a mirror can do now, not only how it answered before: a
  // directory that vanished is reported at once (stat() outside the lock).
  for (size_t i = 0; i < out.size(); ++i) out[i].problem = mirror_problem(opts_.mirrors[i]);
  return out;
}

}  // namespace btfd::hub
