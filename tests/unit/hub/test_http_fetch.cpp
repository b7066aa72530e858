// SPDX-License-Identifier: GPL-2.0-or-later
// The reply's header lines as libcurl hands them over: which validators a
// conditional request will echo back.
#include <doctest/doctest.h>

#include <string>

#include "hub/http_fetch.hpp"

using namespace btfd::hub;

namespace {

Validators read_headers(std::initializer_list<std::string> lines) {
  Validators v;
  for (const auto& l : lines) note_header_line(l, &v);
  return v;
}

}  // namespace

TEST_CASE("http headers: ETag and Last-Modified are kept, whatever the name's case, trimmed") {
  auto v = read_headers({"HTTP/1.1 200 OK\r\n", "Content-Length: 12\r\n", "etag:  \"abc\" \r\n",
                         "LAST-MODIFIED:\tTue, 24 Nov 2026 09:00:00 GMT\r\n", "\r\n"});
  CHECK(v.etag == "\"abc\"");
  CHECK(v.last_modified == "Tue, 24 Nov 2026 09:00:00 GMT");
}

TEST_CASE("http headers: a status line starts a new reply, so a redirect's validators are dropped") {
  auto v = read_headers({"HTTP/1.1 302 Found\r\n", "ETag: \"redirect\"\r\n", "Last-Modified: then\r\n", "\r\n",
                         "HTTP/2 200\r\n", "ETag: \"final\"\r\n"});
  CHECK(v.etag == "\"final\"");
  CHECK(v.last_modified.empty());
}

TEST_CASE("http headers: a value that is long or not printable is not kept; lines without a colon are ignored") {
  auto v = read_headers({"ETag: \"" + std::string(300, 'x') + "\"\r\n", "Last-Modified: a\x01" "b\r\n",
                         "ETag \"no colon\"\r\n", "X-ETag: \"other\"\r\n"});
  CHECK(v.empty());
  // 256 bytes are still taken, 257 are not.
  CHECK(read_headers({"ETag: " + std::string(256, 'e') + "\r\n"}).etag == std::string(256, 'e'));
  CHECK(read_headers({"ETag: " + std::string(257, 'e') + "\r\n"}).etag.empty());
  // A later bad value leaves an earlier good one.
  CHECK(read_headers({"ETag: \"good\"\r\n", "ETag: \"\xff\"\r\n"}).etag == "\"good\"");
}
