// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// `btfctl check`'s run: every kernel of an archive source, each read and parsed
// once for all objects, relocated in parallel through the minimizer's report
// (the one CO-RE matcher btfd has), and classified as libbpf would act on it.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/check_flow.hpp"
#include "cli/check_programs.hpp"
#include "cli/check_source.hpp"

namespace btfctl::check {

// What libbpf does with a relocation that found no target (or too many).
enum class Outcome {
  absent,     // resolves to 0/false: the *_exists, type_matches, type_size and
              // type_id_target kinds (libbpf's "not found" value); the program loads
  fails,      // libbpf poisons the instruction: the verifier rejects the program
              // if it is reachable; it counts as failing unless a guard covers it
  ambiguous,  // candidates disagree: libbpf fails the load outright
};
const char* outcome_name(Outcome o);

// A program's (or object's) verdict on one kernel, as libbpf's load would end.
enum class Verdict {
  loads,          // every relocation resolves (or resolves to 0 as absent)
  loads_guarded,  // some relocations are poisoned, each under a guard (below)
  fails,          // an unguarded poisoned relocation, an ambiguity, or an object
                  // libbpf cannot relocate at all
};
const char* verdict_name(Verdict v);  // "loads", "loads_guarded", "fails"
const char* verdict_text(Verdict v);  // "loads", "loads with guarded fallbacks", "fails"
Verdict worse(Verdict a, Verdict b);

// The existence check that makes a poisoned relocation's instruction dead code
// on this kernel: libbpf resolves it to a constant (0 when its target is
// absent, 1 when present) and the verifier prunes the branch that the constant
// rules out, which holds the read (bpf_core_field_exists() and friends).
struct Guard {
  uint32_t relo = 0, insn = 0;
  std::string kind;        // "field_exists", "type_exists", "type_matches", "enumval_exists"
  std::string access;      // "struct request___x.rq_disk"
  std::string local_spec;  // libbpf's full spec of the check
  uint32_t value = 0;      // what it resolves to on this kernel: 0 (absent) or 1 (present)
  // "field_exists `request___x.rq_disk`" when 0; "... = 1" appended when 1 (the
  // read is the fallback of a check that holds).
  std::string text() const;
};

struct Issue {  // one relocation of one object that did not resolve on one kernel
  std::string program;  // the entry program; "" for a subprogram in .text (counts against every program)
  std::string section;
  uint32_t relo = 0, insn = 0;
  std::string kind;        // libbpf's kind name, e.g. "byte_off"
  std::string access;      // "struct request.rq_disk"
  std::string local_spec;  // libbpf's full spec: "[12] struct request.rq_disk (0:14 @ offset 120)"
  Outcome outcome = Outcome::fails;
  uint32_t candidates = 0;
  std::string reason;  // "field `request.rq_disk` missing", "type `struct foo` missing", ...
  std::string detail;  // for an ambiguity, libbpf's message with the candidates' ids; else ""
  std::optional<Guard> guard;  // for a failing relocation: the check that guards it, if any
  bool blocks_load() const { return outcome == Outcome::ambiguous || (outcome == Outcome::fails && !guard); }
};

struct Cell {  // one object on one kernel
  std::string error;  // the object could not be relocated at all (libbpf fails its load)
  std::vector<Verdict> program_verdicts;  // parallel to Object::programs.programs
  std::vector<Issue> issues;              // absent, failing (guarded or not) and ambiguous relocations
  uint32_t relocations = 0;
  Verdict verdict() const;  // the whole object's: its worst program's
  bool loads() const { return verdict() != Verdict::fails; }
};

struct Object {
  std::string path, name;  // name: the file name without .bpf.o / .o
  std::vector<uint8_t> bytes;
  ObjectPrograms programs;
};

struct KernelRow {
  ArchiveEntry entry;
  std::string id;     // "ubuntu/20.04/x86_64/5.4.0-26-generic"
  std::string error;  // the kernel could not be read or parsed; cells are empty then
  std::vector<Cell> cells;  // parallel to the objects
};

struct CheckInput {
  std::string source;
  ArchiveFilter filter;
  unsigned jobs = 1;
  uint64_t max_kernel_bytes = 0;
  // Called (from any worker, serialized) after each kernel: done, total.
  std::function<void(size_t, size_t)> progress;
};

// A relocated instruction of an object as libbpf patches it on one kernel: the
// existence checks with their value, every other relocation as "unknown".
struct RelocSite {
  std::string section;
  uint32_t relo = 0, insn = 0;
  std::string kind, access, local_spec;  // filled for the existence checks
  int value = -1;  // an existence check: 1 (found) or 0 (absent); -1: not modelled
};
bool is_existence_kind(const std::string& kind);  // field/type/enumval exists, type matches

// Finds the guard of each failing (poisoned) relocation by doing, statically,
// what the verifier does: in the function holding it (its entry program or
// .text subprogram, as list_programs reads it), the values libbpf patches into
// the existence checks on this kernel are propagated as constants over the
// control-flow graph (check_flow.hpp), and a conditional jump on two known
// values takes one edge only. A poisoned instruction no path reaches is a
// guarded fallback, and its guard is the check that decided a jump cutting
// it off: an absent check over `if (exists(a)) read a`, or a present one over
// the else branch of `if (exists(a)) read a; else read b` (b missing). One
// reached by some path fails the program, even if a check about the same
// thing exists elsewhere (a read before its check, a check guarding other code).
// What it cannot see (each leaves the read unguarded, so the program counts as
// failing where libbpf might load it; never the other way):
//   - values the verifier knows but this does not: spilled to the stack and
//     read back, passed through a call (calls are not followed: a check in a
//     subprogram guards nothing in its caller), compared after arithmetic it
//     does not fold (mul, div, byte swaps), or narrowed by an earlier jump;
//   - a function that cannot be followed (a jump out of it, a truncated
//     ld_imm64, more than kMaxFlowInsns instructions), or an object without
//     symbols (no functions): its failing relocations all count as reached;
//     so do those left when an object's analyses on one kernel have spent
//     32 * kMaxFlowInsns instructions (overlapping hostile functions).
// A relocation in a .text subprogram still counts against every program: which
// programs call it is not followed.
// The verifier is modelled by the kernel's release (verifier_for_release):
// before Linux 4.20 it decided only `==` / `!=` against an immediate that the
// register equals, so there a present check guards no else branch.
// Ambiguities are never guarded: libbpf fails the load before the verifier.
void find_guards(const ObjectPrograms& programs, const std::vector<RelocSite>& relocs, Verifier verifier,
                 std::vector<Issue>& issues);

// Loads the objects (their bytes and programs); errors name the file.
btfd::Result<std::vector<Object>> load_objects(const std::vector<std::string>& paths, uint64_t max_bytes);
// Lists the kernels and checks every object on each. Fails only when the source
// cannot be listed; a kernel that cannot be read is a row with an error.
btfd::Result<std::vector<KernelRow>> run_check(const CheckInput& in, const std::vector<Object>& objects);

}  // namespace btfctl::check
