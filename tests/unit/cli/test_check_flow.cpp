// SPDX-License-Identifier: GPL-2.0-or-later
// btfctl check's control-flow analysis on hand-built instruction sequences:
// which instructions the verifier reaches once libbpf has patched the
// existence checks, each jump kind decided on known values (64- and 32-bit,
// immediate and register), ld_imm64, loops, the verifier generations, and code
// that cannot be followed (every instruction reachable, never out of bounds).
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "cli/check_flow.hpp"

using namespace btfctl::check;

namespace {

// Encoders, as the instruction set spells them.
constexpr uint8_t kAlu64K = 0x07, kAlu64X = 0x0f, kAlu32K = 0x04, kJmp = 0x05, kJmp32 = 0x06, kX = 0x08;
enum : uint8_t { ADD = 0x00, SUB = 0x10, MUL = 0x20, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70, XOR = 0xa0,
                 MOV = 0xb0, ARSH = 0xc0 };
enum : uint8_t { JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40, JNE = 0x50, JSGT = 0x60, JSGE = 0x70,
                 CALL = 0x80, EXIT = 0x90, JLT = 0xa0, JLE = 0xb0, JSLT = 0xc0, JSLE = 0xd0 };

Insn mov(uint8_t dst, int32_t imm) { return {static_cast<uint8_t>(kAlu64K | MOV), dst, 0, 0, imm}; }
Insn movx(uint8_t dst, uint8_t src) { return {static_cast<uint8_t>(kAlu64X | MOV), dst, src, 0, 0}; }
Insn alu(uint8_t op, uint8_t dst, int32_t imm) { return {static_cast<uint8_t>(kAlu64K | op), dst, 0, 0, imm}; }
Insn alu32(uint8_t op, uint8_t dst, int32_t imm) { return {static_cast<uint8_t>(kAlu32K | op), dst, 0, 0, imm}; }
Insn jmp(uint8_t op, uint8_t dst, int32_t imm, int16_t off) { return {static_cast<uint8_t>(kJmp | op), dst, 0, off, imm}; }
Insn jmpx(uint8_t op, uint8_t dst, uint8_t src, int16_t off) {
  return {static_cast<uint8_t>(kJmp | kX | op), dst, src, off, 0};
}
Insn jmp32(uint8_t op, uint8_t dst, int32_t imm, int16_t off) {
  return {static_cast<uint8_t>(kJmp32 | op), dst, 0, off, imm};
}
Insn ja(int16_t off) { return {static_cast<uint8_t>(kJmp | JA), 0, 0, off, 0}; }
Insn call(int32_t helper) { return {static_cast<uint8_t>(kJmp | CALL), 0, 0, 0, helper}; }
Insn exit_() { return {static_cast<uint8_t>(kJmp | EXIT), 0, 0, 0, 0}; }
Insn ldx(uint8_t dst, uint8_t src) { return {0x79, dst, src, 0, 0}; }  // r_dst = *(u64 *)(r_src + 0)
std::vector<Insn> ld_imm64(uint8_t dst, uint64_t v) {
  return {{0x18, dst, 0, 0, static_cast<int32_t>(static_cast<uint32_t>(v))},
          {0, 0, 0, 0, static_cast<int32_t>(static_cast<uint32_t>(v >> 32))}};
}

Flow run(const std::vector<Insn>& code, std::vector<std::pair<uint32_t, uint64_t>> known = {},
         std::vector<uint32_t> unknown = {}, Verifier v = Verifier::full) {
  FlowInput in;
  in.insns = code;
  in.known_imm = std::move(known);
  in.unknown_imm = std::move(unknown);
  in.verifier = v;
  Flow f = analyze_flow(in);
  REQUIRE(f.reachable.size() == code.size());
  REQUIRE(f.cut_by.size() == code.size());
  return f;
}

// `if (exists) { read } ; exit` with the check at 0, the read at 2.
std::vector<Insn> guarded() { return {mov(1, 1), jmp(JEQ, 1, 0, 2), mov(2, 8), alu(ADD, 3, 2), mov(0, 0), exit_()}; }

}  // namespace

TEST_CASE("an absent check prunes the read it guards; a present one the else branch") {
  Flow absent = run(guarded(), {{0, 0}});
  CHECK(absent.complete);
  CHECK(absent.reachable == std::vector<uint8_t>{1, 1, 0, 0, 1, 1});
  CHECK(absent.cut_by[2] == 0);
  CHECK(absent.cut_by[3] == 0);
  Flow present = run(guarded(), {{0, 1}});
  CHECK(present.reachable == std::vector<uint8_t>{1, 1, 1, 1, 1, 1});
  // if (exists) a; else b;  -- core_fixes' get_disk()
  std::vector<Insn> get_disk = {mov(1, 1), jmp(JEQ, 1, 0, 2), mov(2, 8), ja(1), mov(2, 0), mov(0, 0), exit_()};
  Flow has_a = run(get_disk, {{0, 1}});
  CHECK(has_a.reachable == std::vector<uint8_t>{1, 1, 1, 1, 0, 1, 1});
  CHECK(has_a.cut_by[4] == 0);
  Flow no_a = run(get_disk, {{0, 0}});
  CHECK(no_a.reachable == std::vector<uint8_t>{1, 1, 0, 0, 1, 1, 1});
  // Without a patched value the literal immediate is what the CPU sees: both
  // checks above would hold. Relocated as "unknown", both branches run.
  Flow unknown = run(get_disk, {}, {0});
  CHECK(unknown.reachable == std::vector<uint8_t>(7, 1));
}

TEST_CASE("a read before its check, or beside it, is reached") {
  // read; if (!exists) skip an unrelated store
  std::vector<Insn> before = {mov(2, 8), mov(1, 0), jmp(JEQ, 1, 0, 1), mov(3, 1), mov(0, 0), exit_()};
  Flow f = run(before, {{1, 0}});
  CHECK(f.reachable[0] == 1);
  CHECK(f.reachable[3] == 0);
  CHECK(f.cut_by[3] == 1);
  CHECK(f.cut_by[0] == Flow::kNoCut);
}

TEST_CASE("every conditional jump is decided on known values, 64 and 32 bits, immediate and register") {
  struct Case {
    uint8_t op;
    int64_t a, b;
    bool taken64, taken32;
  };
  // a is built as a 64-bit value; the 32-bit jumps compare its low half.
  const Case cases[] = {
      {JEQ, 5, 5, true, true},       {JEQ, 0x100000005, 5, false, true}, {JNE, 5, 6, true, true},
      {JGT, 7, 5, true, true},       {JGT, -1, 5, true, true},           {JGE, 5, 5, true, true},
      {JLT, 4, 5, true, true},       {JLT, -1, 5, false, false},         {JLE, 6, 5, false, false},
      {JSET, 6, 2, true, true},      {JSET, 0x100000000, 1, false, false}, {JSGT, -1, 5, false, false},
      {JSGT, 0x80000000, 5, true, false}, {JSGE, -5, -5, true, true},  {JSLT, -1, 0, true, true},
      {JSLE, 0x7fffffff00000001, 1, false, true},
  };
  for (const Case& c : cases) {
    CAPTURE(c.op);
    CAPTURE(c.a);
    CAPTURE(c.b);
    for (int form = 0; form < 3; ++form) {  // 0: 64-bit K, 1: 64-bit X, 2: 32-bit K
      CAPTURE(form);
      std::vector<Insn> code = ld_imm64(1, static_cast<uint64_t>(c.a));
      code.push_back(mov(2, static_cast<int32_t>(c.b)));
      code.push_back(form == 0   ? jmp(c.op, 1, static_cast<int32_t>(c.b), 1)
                     : form == 1 ? jmpx(c.op, 1, 2, 1)
                                 : jmp32(c.op, 1, static_cast<int32_t>(c.b), 1));
      code.push_back(mov(3, 1));  // 4: the fall-through
      code.push_back(exit_());    // 5: the target
      bool taken = form == 2 ? c.taken32 : c.taken64;
      Flow f = run(code);
      CHECK(f.complete);
      CHECK(f.reachable[4] == (taken ? 0 : 1));
      CHECK(f.reachable[5] == 1);
      CHECK(f.cut_by[4] == Flow::kNoCut);  // literal constants name no check
    }
  }
}

TEST_CASE("constants are folded through simple arithmetic, and lost where not modelled") {
  // r1 = check; r1 ^= 1; r1 <<= 3; r1 |= 2; if r1 == 10 goto +1
  std::vector<Insn> folded = {mov(1, 1), alu(XOR, 1, 1), alu(LSH, 1, 3), alu(OR, 1, 2), jmp(JEQ, 1, 10, 1),
                              mov(3, 1), exit_()};
  Flow f = run(folded, {{0, 0}});  // (0 ^ 1) << 3 | 2 == 10
  CHECK(f.reachable[5] == 0);
  CHECK(f.cut_by[5] == 0);  // the origin survives the arithmetic
  Flow g = run(folded, {{0, 1}});  // (1 ^ 1) << 3 | 2 == 2
  CHECK(g.reachable[5] == 1);
  CHECK(g.reachable[6] == 1);
  // A 32-bit op zero-extends: (u32)(-1) + 1 == 0 in 32 bits, 0x100000000 never.
  std::vector<Insn> wrap = {mov(1, -1), alu32(ADD, 1, 1), jmp(JEQ, 1, 0, 1), mov(3, 1), exit_()};
  CHECK(run(wrap).reachable[3] == 0);
  // Multiplication, a load, a call and an out-of-range shift make a register unknown.
  for (Insn lose : {alu(MUL, 1, 1), ldx(1, 10), call(5), alu(LSH, 1, 64)}) {
    CAPTURE(lose.code);
    std::vector<Insn> code = {mov(1, 1), lose, jmp(JEQ, 1, 0, 1), mov(3, 1), exit_()};
    Flow h = run(code, {{0, 0}});
    CHECK(h.reachable == std::vector<uint8_t>(5, 1));
  }
  // A call keeps r6-r9: a check held in r6 across a helper call still decides.
  std::vector<Insn> kept = {mov(6, 0), call(14), jmp(JNE, 6, 0, 1), mov(3, 1), exit_()};
  Flow k = run(kept, {{0, 0}});
  CHECK(k.reachable[3] == 1);
  CHECK(k.reachable == std::vector<uint8_t>(5, 1));  // JNE not taken: falls through to 3
  Flow k1 = run(kept, {{0, 1}});
  CHECK(k1.reachable[3] == 0);
  CHECK(k1.cut_by[3] == 0);
  // Copies keep the value; r10 is never a constant.
  std::vector<Insn> copy = {mov(1, 0), movx(2, 1), jmp(JEQ, 2, 0, 1), mov(3, 1), movx(4, 10),
                            jmp(JEQ, 4, 0, 1), mov(5, 1), exit_()};
  Flow c = run(copy, {{0, 1}});
  CHECK(c.reachable[3] == 1);
  CHECK(c.reachable[6] == 1);
}

TEST_CASE("ld_imm64: 16 bytes, its value in both halves, a patched value in the low half") {
  std::vector<Insn> code = ld_imm64(1, 0x100000000);
  code.push_back(jmp(JEQ, 1, 0, 1));  // 2: 64-bit: not 0
  code.push_back(jmp32(JEQ, 1, 0, 1));  // 3: 32-bit: 0, jumps over 4
  code.push_back(mov(3, 1));
  code.push_back(exit_());
  Flow f = run(code);
  CHECK(f.reachable == std::vector<uint8_t>{1, 1, 1, 1, 0, 1});
  // An existence check relocated on an ld_imm64 gets 0/1 in the low half, 0 in the high.
  Flow p = run(code, {{0, 1}});
  CHECK(p.reachable == std::vector<uint8_t>{1, 1, 1, 1, 1, 1});
  // A map's address (src = 1) is not a constant.
  std::vector<Insn> map = ld_imm64(1, 0);
  map[0].src = 1;
  map.insert(map.end(), {jmp(JEQ, 1, 0, 1), mov(3, 1), exit_()});
  CHECK(run(map).reachable == std::vector<uint8_t>(5, 1));
}

TEST_CASE("a loop ends, and joins lose what differs between its paths") {
  // r1 = 0; loop: r1 += 1; if r1 < 3 goto loop; if r1 == 7 goto +1; mov; exit
  std::vector<Insn> loop = {mov(1, 0), alu(ADD, 1, 1), jmp(JLT, 1, 3, -2), jmp(JEQ, 1, 7, 1), mov(3, 1), exit_()};
  Flow f = run(loop);
  CHECK(f.complete);
  CHECK(f.reachable == std::vector<uint8_t>(6, 1));  // r1 is unknown after the join
  // A check that is the same on both paths stays known.
  std::vector<Insn> same = {mov(6, 0), mov(1, 0), alu(ADD, 1, 1), jmp(JLT, 1, 3, -2), jmp(JEQ, 6, 0, 1),
                            mov(3, 1), exit_()};
  Flow s = run(same, {{0, 0}});
  CHECK(s.reachable[5] == 0);
  CHECK(s.cut_by[5] == 0);
  // An infinite loop is still a finite analysis.
  std::vector<Insn> forever = {mov(1, 0), ja(-1), exit_()};
  Flow e = run(forever);
  CHECK(e.complete);
  CHECK(e.reachable == std::vector<uint8_t>{1, 1, 0});
  CHECK(e.cut_by[2] == Flow::kNoCut);  // no path at all: no check explains it
}

TEST_CASE("nested checks: the outer one that cut the path is named") {
  // if (a) { if (b) read; }  with a absent
  std::vector<Insn> code = {mov(1, 1), jmp(JEQ, 1, 0, 4), mov(2, 1), jmp(JEQ, 2, 0, 2), mov(3, 8), mov(4, 1),
                            mov(0, 0), exit_()};
  Flow f = run(code, {{0, 0}, {2, 0}});
  CHECK(f.reachable[4] == 0);
  CHECK(f.cut_by[4] == 0);
  Flow g = run(code, {{0, 1}, {2, 0}});
  CHECK(g.reachable[4] == 0);
  CHECK(g.cut_by[4] == 2);
}

TEST_CASE("older verifiers decide fewer jumps") {
  std::vector<Insn> get_disk = {mov(1, 1), jmp(JEQ, 1, 0, 2), mov(2, 8), ja(1), mov(2, 0), mov(0, 0), exit_()};
  // Present check, `if r1 == 0`: 1 != 0, which a verifier before 4.20 did not decide.
  CHECK(run(get_disk, {{0, 1}}, {}, Verifier::eq_only).reachable[4] == 1);
  CHECK(run(get_disk, {{0, 1}}, {}, Verifier::immediate).reachable[4] == 0);
  // Absent check: 0 == 0 is decided by all.
  CHECK(run(get_disk, {{0, 0}}, {}, Verifier::eq_only).reachable[2] == 0);
  // Register against register: only the full model.
  std::vector<Insn> x = {mov(1, 0), mov(2, 0), jmpx(JEQ, 1, 2, 1), mov(3, 1), exit_()};
  CHECK(run(x, {{0, 0}}, {}, Verifier::immediate).reachable[3] == 1);
  CHECK(run(x, {{0, 0}}, {}, Verifier::full).reachable[3] == 0);
  CHECK(verifier_for_release("6.18.44-fc-v1272") == Verifier::full);
  CHECK(verifier_for_release("5.11.0-1028-gcp") == Verifier::full);
  CHECK(verifier_for_release("5.4.0-26-generic") == Verifier::immediate);
  CHECK(verifier_for_release("4.20.0") == Verifier::immediate);
  CHECK(verifier_for_release("4.19.0-17-amd64") == Verifier::eq_only);
  CHECK(verifier_for_release("3.10.0-1160.el7.x86_64") == Verifier::eq_only);
  CHECK(verifier_for_release("") == Verifier::eq_only);
  CHECK(verifier_for_release("x.y") == Verifier::eq_only);
}

TEST_CASE("code that cannot be followed: everything reachable, nothing read out of bounds") {
  auto all_reachable = [](const std::vector<Insn>& code) {
    Flow f = run(code, {{0, 0}, {99, 1}}, {1000});  // indices outside the function are ignored
    CHECK_FALSE(f.complete);
    CHECK(f.reachable == std::vector<uint8_t>(code.size(), 1));
    CHECK(f.cut_by == std::vector<uint32_t>(code.size(), Flow::kNoCut));
  };
  all_reachable({mov(1, 0), jmp(JEQ, 1, 0, 100), exit_()});   // a jump past the end
  all_reachable({mov(1, 0), jmp(JEQ, 1, 0, -3), exit_()});    // before the start
  all_reachable({mov(1, 0), ja(INT16_MAX), exit_()});
  all_reachable({mov(1, 0), jmp32(JA, 0, INT32_MIN, 0), exit_()});  // gotol far away
  all_reachable({mov(1, 0), mov(2, 1)});                        // runs off the end
  all_reachable({mov(1, 0), jmp(JEQ, 1, 0, 0)});                // the last jump falls off
  all_reachable({mov(1, 0), ld_imm64(2, 1)[0]});                // a truncated ld_imm64
  {
    std::vector<Insn> into = {mov(1, 0), jmp(JEQ, 1, 0, 1)};  // into an ld_imm64's second half
    auto l = ld_imm64(2, 1);
    into.insert(into.end(), l.begin(), l.end());
    into.push_back(exit_());
    all_reachable(into);
  }
  all_reachable({mov(1, 0), Insn{0x05 | 0xf0, 0, 0, 0, 0}, exit_()});  // no such jump
  all_reachable({mov(1, 0), Insn{0x06 | 0x90, 0, 0, 0, 0}, exit_()});  // nor a 32-bit exit
  all_reachable({mov(1, 0), Insn{0x06 | 0x80, 0, 0, 0, 5}, exit_()});  // nor a 32-bit call
  all_reachable({mov(1, 0), Insn{0xb7, 12, 0, 0, 0}, exit_()});      // no such register
  all_reachable({mov(1, 0), jmpx(JEQ, 1, 13, 1), mov(3, 1), exit_()});
  CHECK(run({}).complete);
  // Too large to analyze.
  std::vector<Insn> big(kMaxFlowInsns + 1, mov(1, 0));
  big.back() = exit_();
  FlowInput in;
  in.insns = big;
  Flow f = analyze_flow(in);
  CHECK_FALSE(f.complete);
  CHECK(f.reachable.size() == big.size());
}

TEST_CASE("decode_insns: both byte orders, registers in the right nibbles") {
  const std::vector<uint8_t> le = {0xb7, 0x21, 0xfe, 0xff, 0x01, 0x02, 0x03, 0x04, 0xaa};
  auto l = decode_insns(le, false);
  REQUIRE(l.size() == 1);  // the partial ninth byte is dropped
  CHECK(l[0].code == 0xb7);
  CHECK(l[0].dst == 1);
  CHECK(l[0].src == 2);
  CHECK(l[0].off == -2);
  CHECK(l[0].imm == 0x04030201);
  const std::vector<uint8_t> be = {0xb7, 0x12, 0xff, 0xfe, 0x04, 0x03, 0x02, 0x01};
  auto b = decode_insns(be, true);
  REQUIRE(b.size() == 1);
  CHECK(b[0].dst == 1);
  CHECK(b[0].src == 2);
  CHECK(b[0].off == -2);
  CHECK(b[0].imm == 0x04030201);
}
