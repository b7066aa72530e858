// SPDX-License-Identifier: GPL-2.0-or-later
#include "hub/http_fetch.hpp"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

#include "btfd-config.h"
#include "hub/mirror.hpp"
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
  CURL* curl = nullptr;
  const WrittenFn* on_written = nullptr;
  bool stopped = false;  // on_written said stop
};

// Whether the reply being received is a success (2xx, or file://, which has
// no status): a 404's page is written to the file, but no reader is shown it
// as if it were the file (the transfer's error says what happened).
bool success_so_far(const Sink* s) {
  long status = 0;
  if (s->curl) curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
  return status == 0 || (status >= 200 && status < 300);
}

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
  if (s->on_written && *s->on_written && success_so_far(s) && !(*s->on_written)(s->written)) {
    s->stopped = true;
    return 0;
  }
  return n;
}

int on_progress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t, curl_off_t) {
  auto* s = static_cast<Sink*>(user);
  if (!s->progress || !*s->progress || dlnow <= 0) return 0;
  // Only the download itself: a 404's page or a redirect's body is not
  // progress ("downloaded 335 B" before KernelNotInHub).
  if (!success_so_far(s)) return 0;
  (*s->progress)(Progress{static_cast<uint64_t>(dlnow), static_cast<uint64_t>(dltotal)});
  return 0;
}

size_t on_header(char* ptr, size_t size, size_t nmemb, void* user) {
  size_t n = size * nmemb;
  note_header_line(std::string_view(ptr, n), static_cast<Validators*>(user));
  return n;
}

// Names the setting a TLS failure most likely calls for.
std::string tls_hint(const std::string& detail) {
  if (detail.find("certificate required") != std::string::npos || detail.find("handshake failure") != std::string::npos)
    return " (the mirror requires a client certificate: ClientCertificate=, ClientKey=)";
  return "";
}

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

void note_header_line(std::string_view line, Validators* v) {
  if (line.rfind("HTTP/", 0) == 0) {
    *v = {};
    return;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return;
  std::string name(line.substr(0, colon));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r' || value.back() == ' ')) value.remove_suffix(1);
  bool printable = value.size() <= 256 && std::all_of(value.begin(), value.end(), [](char c) {
                     return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
                   });
  if (!printable) return;
  if (name == "etag") v->etag = value;
  else if (name == "last-modified") v->last_modified = value;
}

namespace {
Result<std::string> read_secret_file(const std::string& auth, const std::string& file) {
  auto text = read_text_file(file, 4096);
  if (!text) return std::move(text).error().wrap("credentials file");
  std::string s = std::move(*text);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  bool clean = std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x20; });
  std::string problem = s.empty() ? "is empty" : !clean ? "holds more than one line or control characters" : "";
  if (problem.empty() && auth == "basic" && s.find(':') == std::string::npos) problem = "is not \"user:password\"";
  if (!problem.empty()) {
    ::explicit_bzero(s.data(), s.size());
    return make_error(Errc::invalid_argument, "credentials file \"" + file + "\" " + problem);
  }
  return s;
}
}  // namespace

Result<std::string> read_credentials(const Transport& t) {
  if (t.auth.empty()) return std::string();
  return read_secret_file(t.auth, t.auth_file);
}

Result<std::string> read_proxy_credentials(const Transport& t) {
  if (t.proxy_auth_file.empty()) return std::string();
  return read_secret_file("basic", t.proxy_auth_file);
}

namespace {

// A secret (a token, "user:password" or a part of one) held for one request,
// zeroed when the request ends however it ends. Neither copied nor moved, so
// no copy of it outlives the request unwiped.
struct Secret {
  std::string value;
  Secret() = default;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret() { ::explicit_bzero(value.data(), value.size()); }
};

// What a request holds of the credentials files, and the parts libcurl takes.
struct RequestSecrets {
  Secret auth, proxy_auth;            // the files' contents
  Secret user, password;              // auth split, for basic
  Secret proxy_user, proxy_password;  // proxy_auth split
};

Status read_secrets(const Transport& t, RequestSecrets* s) {
  BTFD_TRY(s->auth.value, read_credentials(t));
  BTFD_TRY(s->proxy_auth.value, read_proxy_credentials(t));
  return {};
}

void split_user_password(const Secret& both, Secret* user, Secret* password) {
  size_t colon = both.value.find(':');
  user->value = both.value.substr(0, colon);
  password->value = both.value.substr(colon + 1);
}

// Size, time and redirect limits; where the body, the progress and libcurl's
// error text go; the user agent and no signals.
void set_limits(CURL* c, const DownloadLimits& limits, Sink* sink, char* errbuf) {
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, limits.max_redirects);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, limits.connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, limits.total_timeout_ms);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, limits.low_speed_time_s);
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limits.max_bytes));
  curl_easy_setopt(c, CURLOPT_USERAGENT, "btfd/" BTFD_VERSION);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // worker threads: no SIGALRM-based DNS timeouts
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 0L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, sink);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
}

// Allowed protocols, TLS verification, the site CA and the client certificate.
void set_transport(CURL* c, const std::string& url, const Transport& t) {
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  // Only what a btfhub mirror can be; redirects may never reach file:// or
  // others, nor take an https mirror down to plain http.
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, url.rfind("https://", 0) == 0 ? "https" : "http,https");
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!t.ca_file.empty()) {
    curl_easy_setopt(c, CURLOPT_CAINFO, t.ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_PROXY_CAINFO, t.ca_file.c_str());
  }
  if (!t.client_cert.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, t.client_cert.c_str());
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
  }
  if (!t.client_key.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, t.client_key.c_str());
}

void set_proxy(CURL* c, const Transport& t, RequestSecrets* s) {
  // Unless btfd.conf sets them, libcurl honours http_proxy, https_proxy and
  // no_proxy (absent under systemd); "" turns the proxy off.
  if (t.proxy) curl_easy_setopt(c, CURLOPT_PROXY, t.proxy->c_str());
  if (t.no_proxy) curl_easy_setopt(c, CURLOPT_NOPROXY, t.no_proxy->c_str());
  // Proxy credentials come from a file only (never the proxy URL, which reaches
  // argv and errors); libcurl sends them to the proxy, not to the mirror.
  if (s->proxy_auth.value.empty()) return;
  split_user_password(s->proxy_auth, &s->proxy_user, &s->proxy_password);
  curl_easy_setopt(c, CURLOPT_PROXYAUTH, CURLAUTH_BASIC);
  curl_easy_setopt(c, CURLOPT_PROXYUSERNAME, s->proxy_user.value.c_str());
  curl_easy_setopt(c, CURLOPT_PROXYPASSWORD, s->proxy_password.value.c_str());
}

// libcurl sends these to the mirror's host only, never to a host a redirect names.
void set_credentials(CURL* c, const Transport& t, RequestSecrets* s) {
  if (t.auth == "bearer") {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
    curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, s->auth.value.c_str());
  } else if (t.auth == "basic") {
    split_user_password(s->auth, &s->user, &s->password);
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, s->user.value.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, s->password.value.c_str());
  }
}

using HeaderList = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

// Collects the reply's validators; with if_changed (HTTP only), asks whether
// the copy they describe changed. True when the request is conditional.
bool set_conditional(CURL* c, const std::string& url, const Validators* if_changed, Validators* got,
                     HeaderList* headers) {
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, got);
  bool conditional = if_changed && !if_changed->empty() && url.rfind("http", 0) == 0;
  if (!conditional) return false;
  curl_slist* h = nullptr;
  if (!if_changed->etag.empty()) h = curl_slist_append(h, ("If-None-Match: " + if_changed->etag).c_str());
  if (!if_changed->last_modified.empty())
    h = curl_slist_append(h, ("If-Modified-Since: " + if_changed->last_modified).c_str());
  headers->reset(h);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  return true;
}

// A transfer libcurl reports failed, as an error and a retry class.
Error transfer_error(CURLcode rc, const std::string& url, const std::string& detail, FetchFailure* failure) {
  switch (rc) {
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
    case CURLE_SSL_CACERT_BADFILE:
      return make_error(Errc::unreachable, "\"" + url + "\": TLS verification failed (" + detail +
                                               "; a site CA is set with CAFile=)");
    case CURLE_SSL_CERTPROBLEM:
      return make_error(Errc::unreachable, "\"" + url + "\": the client certificate or key cannot be used (" + detail + ")");
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      if (std::string hint = tls_hint(detail); !hint.empty())
        return make_error(Errc::unreachable, "\"" + url + "\": TLS handshake refused" + hint + " (" + detail + ")");
      *failure = FetchFailure::transient;
      return make_error(Errc::unreachable, "\"" + url + "\": " + detail);
    default:
      *failure = FetchFailure::transient;
      return make_error(Errc::unreachable, "\"" + url + "\": " + detail);
  }
}

// A completed transfer's HTTP status other than success or 304, as an error
// and a retry class; nothing for a success (or file://, which has none).
std::optional<Error> status_error(long status, const std::string& url, const Transport& transport,
                                  FetchFailure* failure) {
  if (status == 401) {
    return make_error(Errc::unreachable, "\"" + url + "\": HTTP 401" +
                                             (transport.auth.empty() ? " (the mirror requires credentials: BearerTokenFile= or BasicAuthFile=)"
                                                                     : " (the mirror refused the credentials)"));
  }
  if (status == 403)
    return make_error(Errc::unreachable, "\"" + url + "\": HTTP 403 (forbidden by the mirror, or by the proxy" +
                                             (transport.proxy && !transport.proxy->empty() ? " " + url_without_userinfo(*transport.proxy) : "") +
                                             ": check its credentials, Proxy= and NoProxy=)");
  if (status == 407)
    return make_error(Errc::unreachable, "\"" + url + "\": HTTP 407" +
                                             (transport.proxy_auth_file.empty()
                                                  ? " (the proxy requires authentication: put \"user:password\" in a "
                                                    "file named by ProxyAuthFile=, or reach the mirror directly with NoProxy=)"
                                                  : " (the proxy refused the credentials in ProxyAuthFile=)"));
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
  return std::nullopt;
}

}  // namespace

Result<DownloadResult> download(const std::string& url, int out_fd, const DownloadLimits& limits,
                                const ProgressFn& progress, FetchFailure* failure, const Transport& transport,
                                const Validators* if_changed, const WrittenFn& written) {
  global_init_once();
  *failure = FetchFailure::fatal;
  RequestSecrets secrets;
  BTFD_TRY_VOID(read_secrets(transport, &secrets));
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return make_error(Errc::internal, "cannot create a curl handle");
  Sink sink{out_fd, 0, limits.max_bytes, false, {}, &progress, curl.get(), &written};
  char errbuf[CURL_ERROR_SIZE] = "";
  CURL* c = curl.get();
  set_transport(c, url, transport);
  set_limits(c, limits, &sink, errbuf);
  set_proxy(c, transport, &secrets);
  set_credentials(c, transport, &secrets);
  Validators got;
  HeaderList headers(nullptr, curl_slist_free_all);
  bool conditional = set_conditional(c, url, if_changed, &got, &headers);

  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  if (sink.too_large || rc == CURLE_FILESIZE_EXCEEDED)
    return make_error(Errc::too_large, "\"" + url + "\" is larger than " + std::to_string(limits.max_bytes) + " bytes");
  if (!sink.io) return std::move(sink.io).error().wrap("cannot save \"" + url + "\"");
  if (sink.stopped) return make_error(Errc::cancelled, "\"" + url + "\": transfer stopped by its reader");
  if (rc != CURLE_OK) return transfer_error(rc, url, detail, failure);
  if (status == 304 && conditional) {
    *failure = FetchFailure::none;
    return DownloadResult{0, status, true, std::move(got)};
  }
  if (auto e = status_error(status, url, transport, failure)) return std::move(*e);
  *failure = FetchFailure::none;
  return DownloadResult{sink.written, status, false, std::move(got)};
}

}  // namespace btfd::hub
