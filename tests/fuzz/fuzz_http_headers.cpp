// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: a reply's header lines as libcurl hands them to
// http_fetch's header callback (note_header_line), on arbitrary bytes cut
// into lines. Whatever comes, the validators kept are short and printable:
// a later request sends them back in its own headers.
#include <cstdint>
#include <string_view>

#include "hub/http_fetch.hpp"

namespace {

bool echoable(std::string_view v) {
  if (v.size() > 256) return false;
  for (char c : v)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  btfd::hub::Validators v;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    size_t n = nl == std::string_view::npos ? rest.size() : nl + 1;  // libcurl passes the line with its end
    std::string_view line = rest.substr(0, n);
    rest.remove_prefix(n);
    btfd::hub::note_header_line(line, &v);
    if (!echoable(v.etag) || !echoable(v.last_modified)) __builtin_trap();
    if (line.rfind("HTTP/", 0) == 0 && !v.empty()) __builtin_trap();  // a new reply starts with none
  }
  return 0;
}
