// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "btf/utf8.hpp"

using btfd::btf::valid_utf8;

TEST_CASE("valid UTF-8 comes back unchanged") {
  for (const char* s : {"", "task_struct", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf"})
    CHECK(valid_utf8(s) == s);
}

TEST_CASE("each byte that does not start a well-formed sequence becomes U+FFFD") {
  const std::string r = "\xef\xbf\xbd";
  CHECK(valid_utf8("task_struc\xff") == "task_struc" + r);
  CHECK(valid_utf8("\xc3") == r);                   // truncated
  CHECK(valid_utf8("\xc3(") == r + "(");            // bad continuation
  CHECK(valid_utf8("\xc0\xaf") == r + r);           // overlong
  CHECK(valid_utf8("\xe0\x80\xaf") == r + r + r);   // overlong
  CHECK(valid_utf8("\xed\xa0\x80") == r + r + r);   // surrogate
  CHECK(valid_utf8("\xf4\x90\x80\x80") == r + r + r + r);  // past U+10FFFF
  CHECK(valid_utf8("\x80") == r);                   // lone continuation
  CHECK(valid_utf8(std::string("a\0b", 3)) == std::string("a\0b", 3));
}

TEST_CASE("whatever the bytes, the result dumps as strict JSON") {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (int i = 255; i >= 0; --i) all.push_back(static_cast<char>(i));
  nlohmann::json j = valid_utf8(all);
  CHECK_NOTHROW((void)j.dump());
  nlohmann::json raw = all;
  CHECK_THROWS((void)raw.dump());  // the check above can fail
}

TEST_CASE("printable text: controls that steer a terminal or reorder text become '?'") {
  using btfd::btf::printable_utf8;
  CHECK(printable_utf8("sample.bpf.o") == "sample.bpf.o");
  CHECK(printable_utf8("caf\xc3\xa9.o") == "caf\xc3\xa9.o");            // é stays
  CHECK(printable_utf8("a\x1b[2Jb") == "a?[2Jb");                       // ESC
  CHECK(printable_utf8("a\x7f" "b") == "a?b");                          // DEL
  CHECK(printable_utf8("a\xc2\x9b" "31mb") == "a?31mb");                // U+009B, C1 CSI
  CHECK(printable_utf8("evil\xe2\x80\xaeo.fpb") == "evil?o.fpb");       // U+202E RLO
  CHECK(printable_utf8("x\xe2\x81\xa6y") == "x?y");                     // U+2066 LRI
  CHECK(printable_utf8("x\xef\xbb\xbfy") == "x?y");                     // U+FEFF
  CHECK(printable_utf8("bad\xff") == "bad\xef\xbf\xbd");                // invalid byte
}
