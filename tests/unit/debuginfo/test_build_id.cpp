// SPDX-License-Identifier: GPL-2.0-or-later
// Build-id notes: /sys/kernel/notes and an ELF's note sections, well formed
// and hostile.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "debuginfo/build_id.hpp"
#include "support/temp_dir.hpp"
#include "test_kernel.hpp"
#include "util/fd.hpp"

using namespace btfd;
using namespace btfd::debuginfo;

namespace {

void put32(std::vector<uint8_t>& v, uint32_t x) {
  uint8_t b[4];
  std::memcpy(b, &x, 4);
  v.insert(v.end(), b, b + 4);
}

// One note record: sizes as given (a hostile one may lie), then name and
// desc, each padded to 4 bytes.
std::vector<uint8_t> note(uint32_t type, std::string name, std::vector<uint8_t> desc, uint32_t namesz = UINT32_MAX,
                          uint32_t descsz = UINT32_MAX) {
  std::vector<uint8_t> v;
  put32(v, namesz == UINT32_MAX ? static_cast<uint32_t>(name.size() + 1) : namesz);
  put32(v, descsz == UINT32_MAX ? static_cast<uint32_t>(desc.size()) : descsz);
  put32(v, type);
  v.insert(v.end(), name.begin(), name.end());
  v.push_back(0);
  while (v.size() % 4) v.push_back(0);
  v.insert(v.end(), desc.begin(), desc.end());
  while (v.size() % 4) v.push_back(0);
  return v;
}

std::vector<uint8_t> cat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const std::vector<uint8_t> kId = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
                                  0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};

}  // namespace

TEST_CASE("the build-id note is found among others, as hex") {
  auto notes = cat(cat(note(1, "Xen", {1, 2, 3}), note(6, "Linux", {0, 0, 0, 0})), note(3, "GNU", kId));
  auto id = build_id_from_notes(notes);
  REQUIRE(id);
  REQUIRE(*id);
  CHECK(**id == "deadbeef0102030405060708090a0b0c0d0e0f10");
  CHECK(is_build_id_hex(**id));
}

TEST_CASE("notes without a build-id give none; a GNU note of another type is not one") {
  auto id = build_id_from_notes(cat(note(1, "GNU", kId), note(3, "GNUX", kId)));
  REQUIRE(id);
  CHECK_FALSE(*id);
  auto empty = build_id_from_notes({});
  REQUIRE(empty);
  CHECK_FALSE(*empty);
}

TEST_CASE("hostile notes: sizes past the end, empty or oversize build-ids are errors, never reads out of bounds") {
  SUBCASE("a name size of 4 GiB") {
    auto r = build_id_from_notes(note(3, "GNU", kId, 0xfffffffcu));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::corrupt);
  }
  SUBCASE("a desc size past the end") {
    auto r = build_id_from_notes(note(3, "GNU", kId, 4, 0xffffffffu - 1));
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("runs past") != std::string::npos);
  }
  SUBCASE("an empty build-id") {
    auto r = build_id_from_notes(note(3, "GNU", {}));
    REQUIRE_FALSE(r);
  }
  SUBCASE("a build-id longer than 64 bytes") {
    auto r = build_id_from_notes(note(3, "GNU", std::vector<uint8_t>(65, 0xab)));
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("65 bytes") != std::string::npos);
  }
  SUBCASE("a truncated record header ends the walk quietly") {
    auto bytes = cat(note(1, "Xen", {1}), std::vector<uint8_t>{1, 2, 3, 4, 5});
    auto r = build_id_from_notes(bytes);
    REQUIRE(r);
    CHECK_FALSE(*r);
  }
  SUBCASE("the last record's padding may be missing") {
    auto bytes = note(3, "GNU", {1, 2, 3, 4, 5});
    bytes.resize(bytes.size() - 3);
    auto r = build_id_from_notes(bytes);
    REQUIRE(r);
    REQUIRE(*r);
    CHECK(**r == "0102030405");
  }
}

TEST_CASE("is_build_id_hex takes only lower-case hex of even length") {
  CHECK(is_build_id_hex("ab01"));
  CHECK_FALSE(is_build_id_hex("AB01"));
  CHECK_FALSE(is_build_id_hex("abc"));
  CHECK_FALSE(is_build_id_hex("../x"));
  CHECK_FALSE(is_build_id_hex(""));
  CHECK_FALSE(is_build_id_hex(std::string(130, 'a')));
}

TEST_CASE("the running kernel's build-id from HOST_ROOT/sys/kernel/notes") {
  test::TempDir root;
  auto none = running_build_id(root.path());
  REQUIRE(none);
  CHECK_FALSE(*none);
  REQUIRE(mkdir_p(root / "sys/kernel"));
  auto notes = cat(note(6, "Linux", {0, 0, 0, 0}), note(3, "GNU", kId));
  REQUIRE(write_file_atomic(root / "sys/kernel/notes", notes));
  auto id = running_build_id(root.path());
  REQUIRE(id);
  REQUIRE(*id);
  CHECK(**id == "deadbeef0102030405060708090a0b0c0d0e0f10");
  REQUIRE(write_file_atomic(root / "sys/kernel/notes", note(3, "GNU", {1}, 4, 1000)));
  auto bad = running_build_id(root.path());
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("sys/kernel/notes") != std::string::npos);
}

TEST_CASE("an ELF's build-id matches what the linker wrote (readelf -n)") {
  test::TempDir dir;
  test::build_test_kernel(dir / "vmlinux");
  auto id = elf_build_id(dir / "vmlinux");
  REQUIRE(id);
  REQUIRE(*id);
  std::string cmd = "readelf -n " + test::shell_quote(dir / "vmlinux") + " | grep -q 'Build ID: " + **id + "'";
  CHECK(std::system(cmd.c_str()) == 0);
  test::write_text(dir / "not-elf", "hello");
  CHECK_FALSE(elf_build_id(dir / "not-elf"));
  CHECK_FALSE(elf_build_id(dir / "missing"));
}
