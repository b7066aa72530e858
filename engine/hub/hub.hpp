// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The upstream hub: an ordered list of btfhub-archive mirrors (https/http URLs,
// file:// URLs or plain directories). fetch() tries them in order with bounded
// retries on transient errors (not after a timeout: a mirror that stalled a
// whole attempt is not having a blip); a mirror that keeps timing out is
// skipped for a while (circuit breaker), even when it is the only one: callers then
// fail at once, by name, until one trial after the cooldown. Thread-safe.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hub/attempt.hpp"
#include "hub/mirror.hpp"
#include "kernel/identity.hpp"

namespace btfd::hub {

struct Options {
  std::vector<std::string> mirrors;
  DownloadLimits download;
  ExtractLimits extract;           // extract.max_output_bytes caps a kernel BTF (kMaxKernelBtfBytes)
  int max_attempts = 3;            // per mirror, for transient errors only
  long backoff_initial_ms = 200;   // doubled per attempt, with +-50% jitter
  int breaker_threshold = 3;       // consecutive timed-out attempts before a mirror is skipped
  long breaker_cooldown_ms = 60000;  // then one trial (half-open) while other callers still fail fast
  std::string temp_dir;            // where downloads are staged (O_TMPFILE); "" = $TMPDIR or /var/tmp
  bool verify_checksums = true;    // check archives against a mirror's SHA256SUMS when it has one
  std::vector<Transport> transports;  // per mirror, in the order of mirrors (missing: the defaults)
  std::string sums_cache;          // SHA256SUMS kept with their validators (AttemptRequest::sums_cache)
};

struct FetchResult {
  std::string url;
  std::string mirror;
  uint64_t size = 0;        // of the raw BTF
  uint64_t downloaded = 0;  // compressed bytes transferred
  bool checksum_verified = false;
  // The SHA-256 of the BTF as btfd checked it (AttemptResult::checked_digest),
  // when the try ran in btfd-fetch; unset for tries run in process.
  std::optional<Digest> digest;
};

struct MirrorStats {
  std::string base;
  uint64_t requests = 0, successes = 0, not_found = 0, errors = 0, timeouts = 0, bytes = 0, skipped = 0;
  bool open_circuit = false;
  std::string problem;  // mirror_problem() now: "" unless it is known not to answer
  // The latest request's failure ("" when it answered, "not found" included):
  // a mirror whose every request fails is not healthy, even when it fails too
  // fast to be skipped.
  std::string last_failure;
  bool healthy() const { return !open_circuit && problem.empty() && last_failure.empty(); }
};

class Hub {
 public:
  // attempt runs one try (attempt_in_process, or fetch_helper_attempt in the daemon).
  Hub(Options opts, AttemptFn attempt);

  // Writes the validated raw BTF of `id` into out_fd (truncated first). Errors:
  // not_in_hub (every mirror said it has no such file: cacheable as a miss),
  // unreachable / timeout (network trouble: not a miss), corrupt (bad archive,
  // bad BTF), too_large, invalid_argument (bad identity), no_space (the disk
  // of temp_dir or out_fd is full: no other mirror is tried, and the mirror's
  // stats and circuit are untouched; the message names temp_dir).
  Result<FetchResult> fetch(const KernelIdentity& id, int out_fd, const ProgressFn& progress = {});
  std::vector<MirrorStats> stats() const;
  const Options& options() const { return opts_; }

  // "<base>/<ID>/<VERSION_ID>/<arch>/<release>.btf.tar.xz"
  static std::string archive_url(const std::string& mirror, const KernelIdentity& id);

 private:
  struct Mirror {
    MirrorStats stats;
    int consecutive_failures = 0;
    std::chrono::steady_clock::time_point open_until{};
    bool probing = false;    // a fetch is making the one trial of an open circuit
    std::string last_error;  // the failure that counted last, for "skipped" messages
  };
  // Under mu_: whether mirror `index` is skipped now (circuit open, or its one
  // trial already running), and the HubUnreachable message saying why.
  bool skipped_locked(size_t index, std::chrono::steady_clock::time_point now, std::string* why) const;
  Result<FetchResult> fetch_from(size_t index, const KernelIdentity& id, int out_fd, const ProgressFn& progress,
                                 FetchFailure* failure);
  void record(size_t index, bool ok, const Error* error, FetchFailure failure, uint64_t bytes);

  Options opts_;
  AttemptFn attempt_;
  mutable std::mutex mu_;
  std::vector<Mirror> mirrors_;
};

}  // namespace btfd::hub
