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
    m.stats.last_failure.clear();
    m.consecutive_failures = 0;
    m.open_until = {};
    ok ? ++m.stats.successes : ++m.stats.not_found;
    return;
  }
  ++m.stats.errors;
  if (error && error->code == Errc::timeout) ++m.stats.timeouts;
  m.stats.last_failure = !error ? "failed" : error->message.size() > 200 ? error->message.substr(0, 200) + "..." : error->message;
  // Only attempts that timed out count toward opening the circuit: a mirror
  // that stalls costs each caller the whole stall timeout, which is what
  // skipping it spares them; one that fails fast (refused, 5xx) costs little
  // and may be back any moment (a restart), so it is not skipped.
  if (failure != FetchFailure::transient || !error || error->code != Errc::timeout) {
    // A trial of an open circuit that failed fast: the mirror answers again,
    // so it is no longer skipped (left as it was, it would stay half-open
    // with one caller at a time let through).
    if (m.consecutive_failures >= opts_.breaker_threshold) {
      m.consecutive_failures = 0;
      m.open_until = {};
    }
    return;
  }
  m.last_error = error->message.size() > 200 ? error->message.substr(0, 200) + "..." : error->message;
  // Open (again, after a failed trial) for the cooldown.
  if (++m.consecutive_failures >= opts_.breaker_threshold)
    m.open_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(opts_.breaker_cooldown_ms);
}

bool Hub::skipped_locked(size_t index, std::chrono::steady_clock::time_point now, std::string* why) const {
  const Mirror& m = mirrors_[index];
  if (m.consecutive_failures < opts_.breaker_threshold) return false;
  bool open = now < m.open_until;
  if (!open && !m.probing) return false;
  auto left = open ? std::chrono::ceil<std::chrono::seconds>(m.open_until - now).count() : 0;
  *why = "mirror \"" + m.stats.base + "\" timed out " + std::to_string(m.consecutive_failures) +
         " times in a row (last: " + m.last_error + "); skipped, " +
         (open ? "asked again in " + std::to_string(left) + " s" : "a trial request to it is under way");
  return true;
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
    // A full disk here is not the mirror's doing: it is not recorded (no
    // error in its stats, no step towards opening its circuit) and not
    // retried, here or at another mirror -- a full disk stays full. (A
    // no_space from a helper that does not classify it counts the same.)
    if (!r && (*failure == FetchFailure::local || r.error().code == Errc::no_space)) {
      *failure = FetchFailure::local;
      break;
    }
    // Only the transfer counts toward the mirror's health; a bad payload is not
    // a network failure.
    bool transfer_ok = r.ok() || *failure == FetchFailure::payload;
    record(index, transfer_ok, r.ok() ? nullptr : &r.error(), r.ok() ? FetchFailure::none : *failure,
           r.ok() ? r->downloaded : 0);
    if (r.ok() || *failure != FetchFailure::transient || attempt == opts_.max_attempts) break;
    // A timeout is not retried: the mirror stalled for a whole attempt (it
    // accepted and sent nothing, or stopped sending), and retrying would make
    // this caller wait attempts x that long.
    if (r.error().code == Errc::timeout) break;
    {
      // Other callers' failures may have opened the circuit meanwhile.
      std::lock_guard lock(mu_);
      std::string why;
      if (skipped_locked(index, std::chrono::steady_clock::now(), &why)) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(jittered(opts_.backoff_initial_ms << (attempt - 1))));
  }
  if (!r) return std::move(r).error();
  // The digest is only ever the one btfd computed over the bytes it checked
  // (fetch_helper.cpp): the store records it instead of hashing the file again.
  *failure = FetchFailure::none;
  return FetchResult{req.url, mirrors_[index].stats.base, r->size, r->downloaded, r->checksum_verified,
                     r->checked_digest};
}

Result<FetchResult> Hub::fetch(const KernelIdentity& id, int out_fd, const ProgressFn& progress) {
  if (auto st = validate_identity(id); !st) return std::move(st).error();
  if (opts_.mirrors.empty()) return make_error(Errc::unreachable, "no hub mirrors are configured");
  int not_found = 0, unreachable = 0;
  std::optional<Error> bad_payload, network;
  std::vector<std::string> network_why;  // every mirror that could not be reached, and why
  // A mirror whose circuit is open is skipped until its cooldown ends, even
  // when every mirror's is (with one mirror, trying anyway would make every
  // caller wait out a stalled mirror): those callers get HubUnreachable at
  // once, saying when it is asked again. Then one fetch makes a trial
  // (half-open) while the others still skip it; its failure opens the circuit
  // for another cooldown, its success closes it.
  for (size_t i = 0; i < opts_.mirrors.size(); ++i) {
    bool trial = false;
    // The trial ends however this iteration does (an exception included), or
    // the mirror would be skipped as "a trial is under way" until a restart.
    struct TrialEnd {
      Hub* hub;
      size_t index;
      const bool& active;
      ~TrialEnd() {
        if (!active) return;
        std::lock_guard lock(hub->mu_);
        hub->mirrors_[index].probing = false;
      }
    } trial_end{this, i, trial};
    {
      std::lock_guard lock(mu_);
      std::string why;
      if (skipped_locked(i, std::chrono::steady_clock::now(), &why)) {
        ++mirrors_[i].stats.skipped;
        ++unreachable;
        if (!network) network = make_error(Errc::unreachable, why);
        network_why.push_back(why);
        continue;
      }
      if (mirrors_[i].consecutive_failures >= opts_.breaker_threshold) trial = mirrors_[i].probing = true;
    }
    // A local mirror whose directory is gone would answer "not found" for
    // every kernel: that is a broken mirror, not a kernel the hub lacks.
    if (std::string problem = mirror_problem(opts_.mirrors[i]); !problem.empty()) {
      record(i, false, nullptr, FetchFailure::fatal, 0);
      ++unreachable;
      if (!network) network = make_error(Errc::unreachable, "mirror \"" + mirrors_[i].stats.base + "\": " + problem);
      network_why.push_back("mirror \"" + mirrors_[i].stats.base + "\": " + problem);
      continue;
    }
    FetchFailure failure = FetchFailure::fatal;
    auto r = fetch_from(i, id, out_fd, progress, &failure);
    if (r) return r;
    if (failure == FetchFailure::local) {
      (void)::ftruncate(out_fd, 0);  // what the partial output took goes back at once
      Error e = std::move(r).error();
      e.code = Errc::no_space;
      return std::move(e).wrap("the disk of \"" + staging_dir(opts_.temp_dir) + "\" is full (no space left to store " +
                               id.to_string() + ")");
    }
    if (failure == FetchFailure::not_found) {
      ++not_found;
    } else if (r.error().code == Errc::corrupt || r.error().code == Errc::too_large ||
               r.error().code == Errc::unsupported || r.error().code == Errc::permission) {
      if (!bad_payload) bad_payload = r.error();
    } else {
      ++unreachable;
      if (!network) network = r.error();
      network_why.push_back(r.error().message);
    }
  }
  (void)::ftruncate(out_fd, 0);  // never leave a partial payload for the caller to mistake
  if (bad_payload) return *bad_payload;
  if (unreachable) {
    Error e = *network;
    // The message says which mirror and why; the error's name
    // (HubUnreachable) already says "unreachable", so it is not repeated.
    e.code = e.code == Errc::timeout ? Errc::timeout : Errc::unreachable;
    // Every mirror tried is named, not only the first.
    if (network_why.size() > 1) {
      e.message = "none of the " + std::to_string(network_why.size()) + " mirrors tried could be reached: ";
      for (size_t k = 0; k < network_why.size(); ++k) e.message += (k ? "; " : "") + network_why[k];
    }
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
