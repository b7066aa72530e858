// SPDX-License-Identifier: GPL-2.0-or-later
// btfctl check's program list from a BPF object's ELF: hostile bytes give an
// error, never a crash; an object without a symbol table has no programs.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../btf/bpf_elf.hpp"
#include "cli/check_flow.hpp"
#include "cli/check_programs.hpp"
#include "cli/check_run.hpp"

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

namespace {

std::vector<uint8_t> read_object(const std::string& name) {
  const char* root = std::getenv("BTFD_BUILD_ROOT");
  REQUIRE(root);
  std::ifstream f(std::string(root) + "/tests/bpf/" + name, std::ios::binary);
  REQUIRE(f);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Every function of a listed object through the analysis, with every
// relocation-free instruction as it is: an answer for each, no crash.
void analyze_all(const ObjectPrograms& p) {
  for (const auto* list : {&p.programs, &p.subprograms})
    for (const Program& f : *list) {
      auto code = code_of(p, f);
      CHECK(code.size() == size_t{f.end_insn - f.first_insn} * 8);
      auto insns = decode_insns(code, p.big_endian);
      FlowInput in;
      in.insns = insns;
      Flow flow = analyze_flow(in);
      CHECK(flow.reachable.size() == insns.size());
    }
}

}  // namespace

TEST_CASE("a real object: its functions' instructions are kept and followed; cut or flipped, no crash") {
  auto obj = read_object("guarded.bpf.o");
  auto p = list_programs("guarded", obj);
  REQUIRE(p.ok());
  CHECK(p->programs.size() == 7);
  CHECK_FALSE(p->big_endian);
  analyze_all(*p);
  for (const Program& f : p->programs) {
    auto insns = decode_insns(code_of(*p, f), false);
    FlowInput in;
    in.insns = insns;
    Flow flow = analyze_flow(in);
    CAPTURE(f.name);
    CHECK(flow.complete);  // clang's output is always followed
  }
  // Truncations and single-byte changes: an error or an answer.
  for (size_t cut = 0; cut < obj.size(); cut += 61) {
    std::vector<uint8_t> part(obj.begin(), obj.begin() + static_cast<long>(cut));
    if (auto r = list_programs("cut", part); r.ok()) analyze_all(*r);
  }
  for (size_t at = 0; at < obj.size(); at += 13) {
    for (uint8_t v : {uint8_t{0x00}, uint8_t{0xff}, uint8_t{0x7f}}) {
      std::vector<uint8_t> bad = obj;
      bad[at] = v;
      if (auto r = list_programs("flipped", bad); r.ok()) analyze_all(*r);
    }
  }
}
