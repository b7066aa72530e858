// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// One hardened libcurl download into a file descriptor.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

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
  local,       // the disk here is full (ENOSPC, EDQUOT): not the mirror's doing, and
               // neither another try nor another mirror helps
};

// How a mirror is reached (btfd.conf [Hub], or a [Mirror "URL"] section's
// keys on top). The daemon runs without a user's environment, so a site's
// proxy and CA come from here, not from http_proxy or SSL_CERT_FILE.
struct Transport {
  std::optional<std::string> proxy;  // unset: libcurl's default (the environment); "": no proxy
  std::optional<std::string> no_proxy;  // hosts that bypass the proxy, comma-separated ("*": all)
  std::string ca_file;      // PEM bundle trusted instead of the system's
  std::string client_cert;  // PEM client certificate, for mirrors that require one (mTLS)
  std::string client_key;   // its private key (PEM)
  std::string auth;         // "", "bearer" or "basic"
  std::string auth_file;    // the token, or "user:password"; read at each request, never logged
  std::string proxy_auth_file;  // "user:password" for the proxy (basic); read like auth_file

  bool operator==(const Transport&) const = default;
};

// The validators of a cached copy, sent as If-None-Match / If-Modified-Since
// (conditional GET) and read back from the reply.
struct Validators {
  std::string etag, last_modified;
  bool empty() const { return etag.empty() && last_modified.empty(); }
};

// One header line of a reply as libcurl hands it over ("Name: value\r\n", or a
// status line "HTTP/1.1 200 OK\r\n"), noted in the validators being collected.
// A status line starts a new reply, so a redirect's validators are dropped.
// ETag and Last-Modified are kept only when at most 256 bytes of printable
// ASCII: a later request echoes them back in its own headers.
void note_header_line(std::string_view line, Validators* v);

struct DownloadResult {
  uint64_t bytes = 0;
  long http_status = 0;
  bool not_modified = false;  // 304: the cached copy is current; nothing was written
  Validators validators;      // the reply's ETag and Last-Modified, when it sent them
};

// Called after each piece of a successful reply's body is written (not an
// error page's), with the bytes written so far, for a reader that follows the
// file as it grows; false stops the transfer at its next piece, and it fails
// as Errc::cancelled.
using WrittenFn = std::function<bool(uint64_t written)>;

// Downloads url into out_fd (which must be empty and seekable). On failure the
// Error says what happened and *failure classifies it for retry decisions.
// With if_changed, the request is conditional (HTTP only).
Result<DownloadResult> download(const std::string& url, int out_fd, const DownloadLimits& limits,
                                const ProgressFn& progress, FetchFailure* failure, const Transport& transport = {},
                                const Validators* if_changed = nullptr, const WrittenFn& written = {});

// The credentials a Transport names, read from its file: at most 4 KiB, one
// line, no control characters, "user:password" for basic. Errors name the
// file, never its contents.
Result<std::string> read_credentials(const Transport& t);
// The proxy's "user:password" from t.proxy_auth_file ("" when unset), checked the same way.
Result<std::string> read_proxy_credentials(const Transport& t);

}  // namespace btfd::hub
