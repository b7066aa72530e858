// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// One hardened libcurl download into a file descriptor.

#include <cstdint>
#include <functional>
#include <string>

#include "util/result.hpp"

namespace btfd::hub {

struct DownloadLimits {
  long connect_timeout_ms = 5000;
  long total_timeout_ms = 120000;
  long low_speed_time_s = 20;        // abort when below 1 KiB/s for this long (stalled server)
  uint64_t max_bytes = 256ull << 20;
  long max_redirects = 5;
};

struct Progress {
  uint64_t downloaded = 0;
  uint64_t total = 0;  // 0 when the server did not say
};
using ProgressFn = std::function<void(const Progress&)>;

enum class FetchFailure {
  none,
  not_found,   // 404/410 or a missing file: the mirror does not have it
  transient,   // 5xx, timeout, reset: worth a retry
  fatal,       // refused protocol, too large, local I/O: no retry
  payload,     // the transfer worked but what came is unusable (bad archive or BTF)
};

struct DownloadResult {
  uint64_t bytes = 0;
  long http_status = 0;
};

// Downloads url into out_fd (which must be empty and seekable). On failure the
// Error says what happened and *failure classifies it for retry decisions.
Result<DownloadResult> download(const std::string& url, int out_fd, const DownloadLimits& limits,
                                const ProgressFn& progress, FetchFailure* failure);

}  // namespace btfd::hub
