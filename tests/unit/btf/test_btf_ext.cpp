// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "btf/btf_ext.hpp"

using namespace btfd;
using namespace btfd::btf;

namespace {

// Builds a .BTF.ext section: header (hdr_len 32), empty func/line info, and a
// core_relo subsection with the given blocks of records.
struct ExtBuilder {
  uint32_t rec_size = 16;
  std::vector<std::pair<uint32_t, std::vector<std::array<uint32_t, 4>>>> blocks;
  uint32_t hdr_len = 32;
  uint8_t version = 1, flags = 0;
  uint16_t magic = 0xEB9F;

  std::vector<uint8_t> build() const {
    std::vector<uint32_t> sub{rec_size};
    for (auto& [sec, recs] : blocks) {
      sub.push_back(sec);
      sub.push_back(static_cast<uint32_t>(recs.size()));
      for (auto& r : recs) {
        for (uint32_t v : r) sub.push_back(v);
        for (uint32_t pad = 16; pad < rec_size; pad += 4) sub.push_back(0);
      }
    }
    std::vector<uint8_t> out(hdr_len + sub.size() * 4);
    std::memcpy(out.data(), &magic, 2);
    out[2] = version;
    out[3] = flags;
    std::memcpy(out.data() + 4, &hdr_len, 4);
    if (hdr_len >= 32) {
      uint32_t off = 0, len = static_cast<uint32_t>(sub.size() * 4);
      std::memcpy(out.data() + 24, &off, 4);
      std::memcpy(out.data() + 28, &len, 4);
    }
    std::memcpy(out.data() + hdr_len, sub.data(), sub.size() * 4);
    return out;
  }
};

void put32(std::vector<uint8_t>& b, size_t off, uint32_t v) { std::memcpy(b.data() + off, &v, 4); }

}  // namespace

TEST_CASE("valid core_relo records come back in file order with per-block indexes") {
  ExtBuilder b;
  b.blocks = {{7, {{8, 5, 11, 0}, {64, 5, 12, 2}}}, {9, {{0, 3, 13, 8}}}};
  auto r = parse_core_relos(b.build());
  REQUIRE(r.ok());
  REQUIRE(r->size() == 3);
  CHECK((*r)[0].sec_name_off == 7);
  CHECK((*r)[0].index == 0);
  CHECK((*r)[1].index == 1);
  CHECK((*r)[1].insn_off == 64);
  CHECK((*r)[1].kind == 2);
  CHECK((*r)[2].sec_name_off == 9);
  CHECK((*r)[2].index == 0);
  CHECK((*r)[2].kind == 8);
}

TEST_CASE("larger record sizes are skipped over, smaller ones refused") {
  ExtBuilder b;
  b.rec_size = 24;
  b.blocks = {{1, {{8, 1, 2, 0}, {16, 1, 2, 1}}}};
  auto r = parse_core_relos(b.build());
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[1].insn_off == 16);
  b.rec_size = 12;
  CHECK_FALSE(parse_core_relos(b.build()).ok());
  b.rec_size = 18;  // not a multiple of 4
  CHECK_FALSE(parse_core_relos(b.build()).ok());
}

TEST_CASE("no core_relo subsection is not an error") {
  ExtBuilder b;
  b.hdr_len = 24;
  auto bytes = b.build();
  bytes.resize(28);  // the section must be larger than its header
  auto r = parse_core_relos(bytes);
  REQUIRE(r.ok());
  CHECK(r->empty());
}

TEST_CASE("header errors") {
  ExtBuilder b;
  b.blocks = {{1, {{8, 1, 2, 0}}}};
  auto good = b.build();
  CHECK(parse_core_relos(good).ok());
  SUBCASE("truncated") { CHECK_FALSE(parse_core_relos(std::span(good.data(), 6)).ok()); }
  SUBCASE("bad magic") {
    auto x = good;
    x[0] = 0x12;
    auto r = parse_core_relos(x);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("magic") != std::string::npos);
  }
  SUBCASE("foreign endianness") {
    auto x = good;
    std::swap(x[0], x[1]);
    auto r = parse_core_relos(x);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::unsupported);
  }
  SUBCASE("bad version") {
    auto x = good;
    x[2] = 2;
    CHECK_FALSE(parse_core_relos(x).ok());
  }
  SUBCASE("bad flags") {
    auto x = good;
    x[3] = 1;
    CHECK_FALSE(parse_core_relos(x).ok());
  }
  SUBCASE("hdr_len too small") {
    auto x = good;
    put32(x, 4, 16);
    CHECK_FALSE(parse_core_relos(x).ok());
  }
  SUBCASE("hdr_len past the end") {
    auto x = good;
    put32(x, 4, static_cast<uint32_t>(x.size()));
    CHECK_FALSE(parse_core_relos(x).ok());
  }
}

TEST_CASE("subsection placement and record bounds") {
  ExtBuilder b;
  b.blocks = {{1, {{8, 1, 2, 0}, {16, 1, 2, 0}}}};
  auto good = b.build();
  SUBCASE("offset outside the section") {
    auto x = good;
    put32(x, 24, 4096);
    CHECK_FALSE(parse_core_relos(x).ok());
  }
  SUBCASE("misaligned subsection") {
    auto x = good;
    put32(x, 24, 2);
    CHECK_FALSE(parse_core_relos(x).ok());
  }
  SUBCASE("records past the end") {
    auto x = good;
    put32(x, 32 + 8, 3);  // num_info says 3, only 2 present
    auto r = parse_core_relos(x);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("past the end") != std::string::npos);
  }
  SUBCASE("huge count does not allocate or overflow") {
    auto x = good;
    put32(x, 32 + 8, 0xFFFFFFFF);
    CHECK_FALSE(parse_core_relos(x).ok());
  }
  SUBCASE("zero records in a block") {
    auto x = good;
    put32(x, 32 + 8, 0);
    CHECK_FALSE(parse_core_relos(x).ok());
  }
  SUBCASE("misaligned insn_off") {
    auto x = good;
    put32(x, 32 + 12, 9);
    CHECK_FALSE(parse_core_relos(x).ok());
  }
  SUBCASE("func_info subsection outside the section") {
    auto x = good;
    put32(x, 8, 1000);
    put32(x, 12, 8);
    CHECK_FALSE(parse_core_relos(x).ok());
  }
}

TEST_CASE("unknown kinds are parsed (the minimizer rejects them with context)") {
  ExtBuilder b;
  b.blocks = {{1, {{8, 1, 2, 99}}}};
  auto r = parse_core_relos(b.build());
  REQUIRE(r.ok());
  CHECK((*r)[0].kind == 99);
}
