// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/check_flow.hpp"

#include <algorithm>
#include <array>
#include <deque>

namespace btfctl::check {
namespace {

// The instruction set's encoding (the kernel's Documentation/bpf/standardization),
// spelled out here so an older linux/bpf.h does not limit what is decoded.
constexpr uint8_t kClassMask = 0x07, kOpMask = 0xf0, kSrcX = 0x08, kModeMask = 0xe0;
constexpr uint8_t kLd = 0x00, kLdx = 0x01, kSt = 0x02, kStx = 0x03, kAlu = 0x04, kJmp = 0x05, kJmp32 = 0x06,
                  kAlu64 = 0x07;
constexpr uint8_t kLdImm64 = 0x18;  // BPF_LD | BPF_IMM | BPF_DW
constexpr uint8_t kModeAtomic = 0xc0;
// ALU operations.
constexpr uint8_t kAdd = 0x00, kSub = 0x10, kOr = 0x40, kAnd = 0x50, kLsh = 0x60, kRsh = 0x70, kXor = 0xa0,
                  kMov = 0xb0, kArsh = 0xc0;
// Jump operations.
constexpr uint8_t kJa = 0x00, kJeq = 0x10, kJgt = 0x20, kJge = 0x30, kJset = 0x40, kJne = 0x50, kJsgt = 0x60,
                  kJsge = 0x70, kCall = 0x80, kExit = 0x90, kJlt = 0xa0, kJle = 0xb0, kJslt = 0xc0, kJsle = 0xd0,
                  kJcond = 0xe0;  // may_goto: either edge
constexpr uint32_t kNone = Flow::kNoCut;
constexpr uint8_t kFrameReg = 10, kRegs = 10;  // r0-r9 tracked; r10 is the frame pointer

struct Val {
  uint64_t v = 0;
  uint32_t origin = kNone;  // the existence check this constant came from
  bool known = false;
};
struct State {
  bool reached = false;
  std::array<Val, kRegs> r{};
};

// The join: a register stays known only if both sides agree on its value; the
// origin survives only if they agree on it too. Each register can only go
// known -> known without origin -> unknown, so a state changes a bounded
// number of times and the worklist ends.
bool join_into(State& into, const State& from) {
  if (!from.reached) return false;
  if (!into.reached) {
    into = from;
    return true;
  }
  bool changed = false;
  for (size_t k = 0; k < kRegs; ++k) {
    Val& a = into.r[k];
    const Val& b = from.r[k];
    if (!a.known) continue;
    if (!b.known || a.v != b.v) {
      a = Val{};
      changed = true;
    } else if (a.origin != b.origin && a.origin != kNone) {
      a.origin = kNone;
      changed = true;
    }
  }
  return changed;
}

bool is_jump_class(uint8_t code) { return (code & kClassMask) == kJmp || (code & kClassMask) == kJmp32; }

class Analysis {
 public:
  explicit Analysis(const FlowInput& in) : in_(in), n_(in.insns.size()) {}
  Flow run();

 private:
  struct Decision {
    int edge = -1;  // -1: both edges; 0: falls through only; 1: jumps only
    uint32_t origin = kNone;
  };
  bool structure();
  Val reg(const State& s, uint8_t k) {
    if (k < kRegs) return s.r[k];
    if (k > kFrameReg) malformed_ = true;
    return Val{};  // r10 points into the stack: not a constant
  }
  // The immediate as the kernel sees it after libbpf's relocation.
  Val imm(uint32_t i, int64_t literal) const {
    switch (imm_kind_[i]) {
      // libbpf writes the value into the 32-bit immediate, which the CPU sign-extends.
      case 1: return Val{static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(patched_[i]))), i, true};
      case 2: return Val{};
      default: return Val{static_cast<uint64_t>(literal), kNone, true};
    }
  }
  void eval(State& s, uint32_t i);
  void alu(State& s, uint32_t i, bool is64);
  Decision decide(const State& s, uint32_t i);
  // The last instruction of a block (its head when the block ends in an ld_imm64).
  uint32_t last_of(uint32_t b) const {
    uint32_t end = block_end(b);
    return end >= 2 && second_half_[end - 1] ? end - 2 : end - 1;
  }
  uint32_t block_end(uint32_t b) const { return b + 1 < starts_.size() ? starts_[b + 1] : static_cast<uint32_t>(n_); }
  uint32_t target_of(uint32_t i) const {
    const Insn& x = in_.insns[i];
    int64_t rel = (x.code & kClassMask) == kJmp32 && (x.code & kOpMask) == kJa ? x.imm : x.off;
    return static_cast<uint32_t>(static_cast<int64_t>(i) + 1 + rel);
  }
  // The successors of block b's last instruction: for each, the block and
  // whether it is the jump's target (true) or the fall-through (false).
  template <typename F>
  void for_successors(uint32_t b, F&& f) const;
  Flow give_up(std::string why) {
    Flow f;
    f.complete = false;
    f.why = std::move(why);
    f.reachable.assign(n_, 1);
    f.cut_by.assign(n_, kNone);
    f.steps = steps_;
    return f;
  }

  const FlowInput& in_;
  size_t n_;
  std::vector<uint8_t> imm_kind_;  // 0 literal, 1 patched to a known value, 2 unknown
  std::vector<uint64_t> patched_;
  std::vector<uint8_t> second_half_;
  std::vector<uint32_t> starts_, block_of_;
  bool malformed_ = false;
  size_t steps_ = 0;
};

// Decodes the jumps once: every target inside the function and not the second
// half of an ld_imm64, no instruction running off the end; then the blocks.
bool Analysis::structure() {
  std::vector<uint8_t> leader(n_, 0);
  second_half_.assign(n_, 0);
  leader[0] = 1;
  std::vector<uint32_t> targets;
  for (size_t i = 0; i < n_; ++i) {
    const Insn& x = in_.insns[i];
    if (x.dst > kFrameReg) return false;
    if (x.code == kLdImm64) {
      if (i + 2 >= n_) return false;  // truncated, or the function's last instruction is not a jump
      second_half_[++i] = 1;
      continue;
    }
    if (!is_jump_class(x.code)) {
      if (i + 1 >= n_) return false;  // runs off the function's end
      continue;
    }
    uint8_t op = x.code & kOpMask;
    bool is32 = (x.code & kClassMask) == kJmp32;
    if (op == kExit) {
      if (is32) return false;  // no such instruction
      if (i + 1 < n_) leader[i + 1] = 1;
      continue;
    }
    if (op == kCall) {
      if (is32 || i + 1 >= n_) return false;
      continue;
    }
    if (op > kJcond) return false;  // no such jump
    int64_t t = static_cast<int64_t>(i) + 1 + (is32 && op == kJa ? x.imm : x.off);
    if (t < 0 || t >= static_cast<int64_t>(n_)) return false;  // out of the function
    leader[static_cast<size_t>(t)] = 1;
    targets.push_back(static_cast<uint32_t>(t));
    if (op != kJa && i + 1 >= n_) return false;
    if (i + 1 < n_) leader[i + 1] = 1;
  }
  for (uint32_t t : targets)
    if (second_half_[t]) return false;  // into the middle of an ld_imm64
  block_of_.assign(n_, kNone);
  for (size_t i = 0; i < n_; ++i)
    if (leader[i] && !second_half_[i]) {
      block_of_[i] = static_cast<uint32_t>(starts_.size());
      starts_.push_back(static_cast<uint32_t>(i));
    }
  return true;
}

void Analysis::alu(State& s, uint32_t i, bool is64) {
  const Insn& x = in_.insns[i];
  if (x.dst >= kRegs) return;  // writes to r10 are rejected by the verifier; nothing tracked
  Val& d = s.r[x.dst];
  Val src = x.code & kSrcX ? reg(s, x.src) : imm(i, x.imm);
  uint8_t op = x.code & kOpMask;
  // off selects sign-extending moves and signed division: not modelled.
  if (x.off != 0 || !src.known || (op != kMov && !d.known)) {
    d = Val{};
    return;
  }
  uint64_t a = d.v, b = src.v;
  if (!is64) {
    a = static_cast<uint32_t>(a);
    b = static_cast<uint32_t>(b);
  }
  const unsigned width = is64 ? 64 : 32;
  uint64_t r = 0;
  switch (op) {
    case kMov: r = b; break;
    case kAdd: r = a + b; break;
    case kSub: r = a - b; break;
    case kAnd: r = a & b; break;
    case kOr: r = a | b; break;
    case kXor: r = a ^ b; break;
    case kLsh:
    case kRsh:
    case kArsh:
      // The verifier makes an out-of-range shift unknown: so does this.
      if (b >= width) {
        d = Val{};
        return;
      }
      if (op == kLsh) r = a << b;
      else if (op == kRsh) r = a >> b;
      else if (is64) r = static_cast<uint64_t>(static_cast<int64_t>(a) >> b);
      else r = static_cast<uint32_t>(static_cast<int32_t>(static_cast<uint32_t>(a)) >> b);
      break;
    default:  // mul, div, mod, neg, byte swaps: not folded
      d = Val{};
      return;
  }
  if (!is64) r = static_cast<uint32_t>(r);
  uint32_t origin = op == kMov ? src.origin : (d.origin != kNone ? d.origin : src.origin);
  d = Val{r, origin, true};
}

void Analysis::eval(State& s, uint32_t i) {
  const Insn& x = in_.insns[i];
  auto clobber_calls = [&] {
    for (size_t k = 0; k <= 5; ++k) s.r[k] = Val{};
  };
  switch (x.code & kClassMask) {
    case kAlu: alu(s, i, false); break;
    case kAlu64: alu(s, i, true); break;
    case kLd:
      if (x.code == kLdImm64) {
        if (x.dst >= kRegs) break;
        // src != 0: a map, a BTF id or a function: an address, not a constant.
        Val v;
        if (x.src == 0 && imm_kind_[i] == 1) {
          v = Val{patched_[i], i, true};
        } else if (x.src == 0 && imm_kind_[i] == 0) {
          uint64_t lo = static_cast<uint32_t>(x.imm), hi = static_cast<uint32_t>(in_.insns[i + 1].imm);
          v = Val{lo | hi << 32, kNone, true};
        }
        s.r[x.dst] = v;
      } else {
        clobber_calls();  // legacy packet loads act like calls
      }
      break;
    case kLdx:
      if (x.dst < kRegs) s.r[x.dst] = Val{};
      break;
    case kSt: break;
    case kStx:
      if ((x.code & kModeMask) == kModeAtomic) {  // fetch and cmpxchg write registers
        s.r[0] = Val{};
        if (x.src < kRegs) s.r[x.src] = Val{};
        if (x.src > kFrameReg) malformed_ = true;
      }
      break;
    default:  // jumps: only a call changes registers
      if ((x.code & kOpMask) == kCall) clobber_calls();
      break;
  }
}

Analysis::Decision Analysis::decide(const State& s, uint32_t i) {
  const Insn& x = in_.insns[i];
  uint8_t op = x.code & kOpMask;
  if (op == kJcond) return {};
  Val a = reg(s, x.dst);
  Val b = x.code & kSrcX ? reg(s, x.src) : imm(i, x.imm);
  if (!a.known || !b.known) return {};
  if ((x.code & kSrcX) && in_.verifier != Verifier::full) return {};
  if (in_.verifier == Verifier::eq_only) {
    // Only `if rX == K` / `if rX != K` on a register known to equal K.
    if ((x.code & kClassMask) != kJmp || (op != kJeq && op != kJne) || a.v != b.v) return {};
    return {op == kJeq ? 1 : 0, a.origin != kNone ? a.origin : b.origin};
  }
  uint64_t ua = a.v, ub = b.v;
  if ((x.code & kClassMask) == kJmp32) {
    ua = static_cast<uint32_t>(ua);
    ub = static_cast<uint32_t>(ub);
  }
  int64_t sa = (x.code & kClassMask) == kJmp32 ? static_cast<int32_t>(static_cast<uint32_t>(ua)) : static_cast<int64_t>(ua);
  int64_t sb = (x.code & kClassMask) == kJmp32 ? static_cast<int32_t>(static_cast<uint32_t>(ub)) : static_cast<int64_t>(ub);
  bool taken = false;
  switch (op) {
    case kJeq: taken = ua == ub; break;
    case kJne: taken = ua != ub; break;
    case kJgt: taken = ua > ub; break;
    case kJge: taken = ua >= ub; break;
    case kJlt: taken = ua < ub; break;
    case kJle: taken = ua <= ub; break;
    case kJset: taken = (ua & ub) != 0; break;
    case kJsgt: taken = sa > sb; break;
    case kJsge: taken = sa >= sb; break;
    case kJslt: taken = sa < sb; break;
    case kJsle: taken = sa <= sb; break;
    default: return {};
  }
  return {taken ? 1 : 0, a.origin != kNone ? a.origin : b.origin};
}

template <typename F>
void Analysis::for_successors(uint32_t b, F&& f) const {
  uint32_t last = last_of(b);
  const Insn& x = in_.insns[last];
  uint8_t op = x.code & kOpMask;
  if (!is_jump_class(x.code) || op == kCall) {
    f(block_of_[block_end(b)], false);
    return;
  }
  if (op == kExit) return;
  if (op != kJa) f(block_of_[last + 1], false);
  f(block_of_[target_of(last)], true);
}

Flow Analysis::run() {
  if (n_ == 0) {
    Flow f;
    f.complete = true;
    return f;
  }
  if (n_ > kMaxFlowInsns) return give_up("function of " + std::to_string(n_) + " instructions");
  imm_kind_.assign(n_, 0);
  patched_.assign(n_, 0);
  for (auto [i, v] : in_.known_imm)
    if (i < n_ && imm_kind_[i] == 0) {
      imm_kind_[i] = 1;
      patched_[i] = v;
    }
  for (uint32_t i : in_.unknown_imm)
    if (i < n_) imm_kind_[i] = 2;  // unknown wins over a value: never a wrong constant
  if (!structure()) return give_up("malformed control flow");

  const size_t blocks = starts_.size();
  if (blocks == 0) return give_up("no entry");  // structure() always makes one: instruction 0
  std::vector<State> entry(blocks);
  entry[0].reached = true;
  std::deque<uint32_t> work{0};
  std::vector<uint8_t> queued(blocks, 0);
  queued[0] = 1;
  // A block is evaluated again only when its entry state rose (at most 2 per
  // register, plus being reached): the worklist is bounded by that anyway;
  // the explicit bound is a second line.
  const size_t limit = (2 * kRegs + 4) * n_ + 64;
  while (!work.empty()) {
    uint32_t b = work.front();
    work.pop_front();
    queued[b] = 0;
    State s = entry[b];
    uint32_t last = last_of(b);
    for (uint32_t i = starts_[b]; i <= last; i += in_.insns[i].code == kLdImm64 ? 2 : 1) {
      if (++steps_ > limit) return give_up("iteration bound");
      eval(s, i);
    }
    if (malformed_) return give_up("malformed instruction");
    const Insn& x = in_.insns[last];
    Decision d;
    if (is_jump_class(x.code)) d = decide(s, last);
    if (malformed_) return give_up("malformed instruction");
    for_successors(b, [&](uint32_t succ, bool is_target) {
      if (d.edge >= 0 && d.edge != static_cast<int>(is_target)) return;
      if (join_into(entry[succ], s) && !queued[succ]) {
        queued[succ] = 1;
        work.push_back(succ);
      }
    });
  }

  // Reachable blocks are reachable whole. A decided jump whose other edge
  // leads to an unreached block cuts it off: that block, and the unreached
  // code only it leads to, are labelled with the check that decided it.
  Flow f;
  f.complete = true;
  f.reachable.assign(n_, 0);
  f.cut_by.assign(n_, kNone);
  std::vector<uint32_t> label(blocks, kNone);
  std::deque<uint32_t> cut;
  for (uint32_t b = 0; b < blocks; ++b) {
    if (!entry[b].reached) continue;
    std::fill(f.reachable.begin() + starts_[b], f.reachable.begin() + block_end(b), 1);
    uint32_t last = last_of(b);
    const Insn& x = in_.insns[last];
    uint8_t op = x.code & kOpMask;
    if (!is_jump_class(x.code) || op == kJa || op == kCall || op == kExit) continue;
    State s = entry[b];
    for (uint32_t i = starts_[b]; i <= last; i += in_.insns[i].code == kLdImm64 ? 2 : 1) {
      ++steps_;
      eval(s, i);
    }
    Decision d = decide(s, last);
    if (d.edge < 0 || d.origin == kNone) continue;
    uint32_t pruned = d.edge == 1 ? block_of_[last + 1] : block_of_[target_of(last)];
    if (entry[pruned].reached || label[pruned] != kNone) continue;
    label[pruned] = d.origin;
    cut.push_back(pruned);
  }
  while (!cut.empty()) {
    uint32_t b = cut.front();
    cut.pop_front();
    ++steps_;
    for_successors(b, [&](uint32_t succ, bool) {
      if (entry[succ].reached || label[succ] != kNone) return;
      label[succ] = label[b];
      cut.push_back(succ);
    });
  }
  for (uint32_t b = 0; b < blocks; ++b)
    if (label[b] != kNone) std::fill(f.cut_by.begin() + starts_[b], f.cut_by.begin() + block_end(b), label[b]);
  f.steps = steps_;
  return f;
}

}  // namespace

std::vector<Insn> decode_insns(std::span<const uint8_t> bytes, bool big_endian) {
  std::vector<Insn> out(bytes.size() / 8);
  for (size_t k = 0; k < out.size(); ++k) {
    const uint8_t* p = bytes.data() + 8 * k;
    Insn& x = out[k];
    x.code = p[0];
    // The register nibbles swap places with the byte order, as the bitfields do.
    x.dst = big_endian ? p[1] >> 4 : p[1] & 0x0f;
    x.src = big_endian ? p[1] & 0x0f : p[1] >> 4;
    uint16_t off = big_endian ? static_cast<uint16_t>(p[2] << 8 | p[3]) : static_cast<uint16_t>(p[3] << 8 | p[2]);
    uint32_t imm = big_endian ? uint32_t{p[4]} << 24 | uint32_t{p[5]} << 16 | uint32_t{p[6]} << 8 | p[7]
                              : uint32_t{p[7]} << 24 | uint32_t{p[6]} << 16 | uint32_t{p[5]} << 8 | p[4];
    x.off = static_cast<int16_t>(off);
    x.imm = static_cast<int32_t>(imm);
  }
  return out;
}

Flow analyze_flow(const FlowInput& in) { return Analysis(in).run(); }

Verifier verifier_for_release(const std::string& release) {
  unsigned major = 0, minor = 0;
  size_t k = 0;
  auto number = [&](unsigned& out) {
    size_t start = k;
    while (k < release.size() && k - start < 4 && release[k] >= '0' && release[k] <= '9')
      out = out * 10 + static_cast<unsigned>(release[k++] - '0');
    return k > start;
  };
  if (!number(major) || k >= release.size() || release[k++] != '.' || !number(minor)) return Verifier::eq_only;
  auto at_least = [&](unsigned ma, unsigned mi) { return major > ma || (major == ma && minor >= mi); };
  return at_least(5, 11) ? Verifier::full : at_least(4, 20) ? Verifier::immediate : Verifier::eq_only;
}

}  // namespace btfctl::check
