// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The verifier's dead-code pruning, done statically on one function of a BPF
// object: which instructions a load can reach on a kernel, given the values
// libbpf patches into the existence checks (bpf_core_field_exists() and
// friends: 1 when the target exists, 0 when not). A forward constant
// propagation over the function's control-flow graph: each register r0-r9 is a
// known 64-bit constant or unknown; a conditional jump whose operands are both
// known takes one edge only, as the verifier does with constant scalars.
//
// It must never find dead code the verifier would walk (that would turn a
// failing program into a "loads"), so anything it does not model makes a
// register unknown, and code it cannot follow (a jump out of the function, a
// truncated ld_imm64, a bound hit) makes the whole function reachable.

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace btfctl::check {

// One instruction as struct bpf_insn holds it.
struct Insn {
  uint8_t code = 0, dst = 0, src = 0;
  int16_t off = 0;
  int32_t imm = 0;
};
// The instructions in `bytes` (8 each; a trailing partial one is dropped), in
// the object's byte order (ELFDATA2MSB: big_endian).
std::vector<Insn> decode_insns(std::span<const uint8_t> bytes, bool big_endian);

// How many of the jumps on known values a kernel's verifier decides (takes one
// edge of). Older verifiers decide fewer, so more code is reachable for them.
enum class Verifier {
  eq_only,    // before Linux 4.20: `==` / `!=` against an immediate that the register equals
  immediate,  // 4.20 on (is_branch_taken): any comparison against an immediate
  full,       // 5.11 on (a safe bound; it came a little earlier): also against a known register
};
// From a kernel release ("5.11.0-1028-gcp"); one that does not parse is eq_only.
Verifier verifier_for_release(const std::string& release);

struct FlowInput {
  std::span<const Insn> insns;
  Verifier verifier = Verifier::full;  // one function; jumps are relative to it
  // Instructions whose immediate libbpf sets to a value this analysis knows:
  // the existence checks, 0 or 1 (an ld_imm64 gets it in its low half, 0 in
  // its high half, as libbpf patches it). The index is in `insns`.
  std::vector<std::pair<uint32_t, uint64_t>> known_imm;
  // Relocated instructions whose patched value is not modelled (offsets,
  // sizes, ids, an ambiguous check): what they compute is unknown.
  std::vector<uint32_t> unknown_imm;
};

struct Flow {
  static constexpr uint32_t kNoCut = UINT32_MAX;
  // False when the function could not be followed (malformed code, too large,
  // a bound hit): every instruction then counts as reachable.
  bool complete = false;
  std::string why;  // when not complete: what stopped it
  std::vector<uint8_t> reachable;  // per instruction: 1 when some path reaches it
  // Per unreachable instruction: the known_imm instruction (an existence
  // check) whose value decided a jump that cut the paths to it; kNoCut when no
  // such check explains it (no path at all, or a jump decided by other constants).
  std::vector<uint32_t> cut_by;
  size_t steps = 0;  // instructions evaluated, for the caller's budget
};

// Limits: a function of more instructions is not analyzed (complete = false).
constexpr size_t kMaxFlowInsns = size_t{1} << 18;

Flow analyze_flow(const FlowInput& in);

}  // namespace btfctl::check
