// SPDX-License-Identifier: GPL-2.0-or-later
// btfctl check's program list from a BPF object's ELF: hostile bytes give an
// error, never a crash; an object without a symbol table has no programs.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../btf/bpf_elf.hpp"
#include "cli/check_programs.hpp"

using namespace btfctl::check;

TEST_CASE("not an ELF, or a truncated one, is an error") {
  std::vector<uint8_t> text(100, 'a');
  CHECK_FALSE(list_programs("t", text).ok());
  CHECK_FALSE(list_programs("t", {}).ok());
  std::vector<uint8_t> btf = {0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
  auto obj = btfd::test::bpf_object(btf, {});
  for (size_t cut = 0; cut < obj.size(); cut += 7) {
    std::vector<uint8_t> part(obj.begin(), obj.begin() + static_cast<long>(cut));
    (void)list_programs("cut", part);  // any answer, no crash (ASan/UBSan runs watch)
  }
  auto whole = list_programs("o", obj);
  REQUIRE(whole.ok());
  CHECK(whole->programs.empty());
  CHECK(program_at(*whole, ".text", 0) == nullptr);
}

TEST_CASE("program_at finds the entry program holding an instruction") {
  ObjectPrograms p;
  p.programs = {{"a", "kprobe/x", 0, 10}, {"b", "kprobe/x", 10, 12}, {"c", "tp/y", 0, 4}};
  CHECK(program_at(p, "kprobe/x", 0)->name == "a");
  CHECK(program_at(p, "kprobe/x", 11)->name == "b");
  CHECK(program_at(p, "kprobe/x", 12) == nullptr);
  CHECK(program_at(p, "tp/y", 3)->name == "c");
  CHECK(program_at(p, ".text", 3) == nullptr);
}
