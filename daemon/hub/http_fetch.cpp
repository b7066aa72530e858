// SPDX-License-Identifier: GPL-2.0-or-later
#include "hub/http_fetch.hpp"

#include <curl/curl.h>
#include <unistd.h>

#include <memory>
#include <mutex>

#include "btfd-config.h"
#include "util/fd.hpp"

namespace btfd::hub {
namespace {

struct Sink {
  int fd;
  uint64_t written = 0;
  uint64_t max;
  bool too_large = false;
  Status io;
  const ProgressFn* progress;
};

size_t on_data(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* s = static_cast<Sink*>(user);
  size_t n = size * nmemb;
  if (s->written + n > s->max) {
    s->too_large = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  s->io = write_all(s->fd, std::span(reinterpret_cast<const uint8_t*>(ptr), n));
  if (!s->io) return 0;
  s->written += n;
  return n;
}

int on_progress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t, curl_off_t) {
  auto* s = static_cast<Sink*>(user);
  if (s->progress && *s->progress && dlnow > 0)
    (*s->progress)(Progress{static_cast<uint64_t>(dlnow), static_cast<uint64_t>(dltotal)});
  return 0;
}

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

Result<DownloadResult> download(const std::string& url, int out_fd, const DownloadLimits& limits,
                                const ProgressFn& progress, FetchFailure* failure) {
  global_init_once();
  *failure = FetchFailure::fatal;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return make_error(Errc::internal, "cannot create a curl handle");
  Sink sink{out_fd, 0, limits.max_bytes, false, {}, &progress};
  char errbuf[CURL_ERROR_SIZE] = "";
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  // Only what a btfhub mirror can be; redirects may never reach file:// or others.
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, limits.max_redirects);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, limits.connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, limits.total_timeout_ms);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, limits.low_speed_time_s);
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limits.max_bytes));
  curl_easy_setopt(c, CURLOPT_USERAGENT, "btfd/" BTFD_VERSION);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // worker threads: no SIGALRM-based DNS timeouts
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 0L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &sink);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  // Proxy variables (http_proxy, https_proxy, no_proxy) are honoured by libcurl itself.

  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  if (sink.too_large || rc == CURLE_FILESIZE_EXCEEDED)
    return make_error(Errc::too_large, "\"" + url + "\" is larger than " + std::to_string(limits.max_bytes) + " bytes");
  if (!sink.io) return std::move(sink.io).error().wrap("cannot save \"" + url + "\"");
  switch (rc) {
    case CURLE_OK: break;
    case CURLE_FILE_COULDNT_READ_FILE:
      *failure = FetchFailure::not_found;
      return make_error(Errc::not_found, "\"" + url + "\" does not exist");
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_TOO_MANY_REDIRECTS:
      return make_error(Errc::permission, "\"" + url + "\": refused (" + detail + ")");
    case CURLE_OPERATION_TIMEDOUT:
      *failure = FetchFailure::transient;
      return make_error(Errc::timeout, "\"" + url + "\": timed out (" + detail + ")");
    case CURLE_URL_MALFORMAT:
      return make_error(Errc::invalid_argument, "\"" + url + "\": " + detail);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
      return make_error(Errc::unreachable, "\"" + url + "\": TLS verification failed (" + detail + ")");
    default:
      *failure = FetchFailure::transient;
      return make_error(Errc::unreachable, "\"" + url + "\": " + detail);
  }
  if (status == 404 || status == 410) {
    *failure = FetchFailure::not_found;
    return make_error(Errc::not_found, "\"" + url + "\": HTTP " + std::to_string(status));
  }
  if (status >= 500 || status == 429 || status == 408) {
    *failure = FetchFailure::transient;
    return make_error(Errc::unreachable, "\"" + url + "\": HTTP " + std::to_string(status));
  }
  if (status != 0 && (status < 200 || status >= 300))
    return make_error(Errc::unreachable, "\"" + url + "\": HTTP " + std::to_string(status));
  *failure = FetchFailure::none;
  return DownloadResult{sink.written, status};
}

}  // namespace btfd::hub
