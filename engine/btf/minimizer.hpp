// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The CO-RE BTF minimizer: what `bpftool gen min_core_btf` does, built on
// libbpf's public API, but aiming at libbpf's *results* rather than bpftool's
// bytes. Relocating an object against our output gives the same values as
// against the full kernel BTF (target type ids aside), including the cases where
// bpftool's output does not (see docs/min-core-btf notes in marker.cpp).

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "btf/budget.hpp"
#include "btf/kernel_btf.hpp"
#include "btf/reloc_report.hpp"

namespace btfd::btf {

struct ObjectInput {
  std::string name;  // as the report names it
  std::span<const uint8_t> bytes;
  // Messages name the object by `name` unless false: btfd says which object
  // by its index in the call (Error::object), as its client knows it.
  bool name_in_messages = true;
};

// What one call cost against its budget (tests, stats).
struct MinimizeCost {
  uint64_t peak_memory_bytes = 0;  // the most the call held against budget.max_memory_bytes
  uint64_t report_bytes = 0;       // its report, as counted against budget.max_report_bytes
  uint64_t relocations = 0;        // its objects' relocations, as far as they were read
};

struct MinimizeOptions {
  // false: relocate and report only, no BTF is emitted (btfctl check).
  bool emit = true;
  // true: an ambiguous relocation is reported in RelocReport::ambiguity and the
  // run goes on (a compatibility report lists it); false: it fails the run, as
  // there is no BTF that would make libbpf load the object.
  bool report_ambiguity = false;
  // What the call may cost (budget.hpp); the defaults change no result for a
  // real object. Exceeding a limit fails the call with Errc::too_large naming
  // it and its [Limits] key; cancellation fails it with Errc::cancelled.
  MinimizeBudget budget;
  // When set, receives what the call cost, whether it succeeded or not.
  MinimizeCost* cost = nullptr;
};

struct MinimizeResult {
  std::vector<uint8_t> btf;  // raw BTF, deterministic for the same inputs
  RelocTable relocs;         // one row per relocation, in the objects' order
  uint32_t types = 0;        // types in the output
};

// The essential names minimize() will look up in the kernel for these objects
// (what a one-shot run indexes); fails as minimize() would on a bad object,
// and on the budget's relocation count, name length, memory, deadline and
// cancellation.
Result<KernelBtf::NameFilter> lookup_names(std::span<const ObjectInput> objects, const MinimizeBudget& budget = {});
// A failure met while reading one of the objects carries its index in
// `objects` (Error::object, Domain::object).
Result<MinimizeResult> minimize(const KernelBtf& kernel, std::span<const ObjectInput> objects,
                                const MinimizeOptions& options = {});

// report_to_json(result.relocs) (reloc_report.hpp) is the verbose report, one
// JSON object per relocation with every name spelled out, for btfctl minimize
// --report --json: local, not a daemon cost.

// The compact report, what btfd stores and replies with (GetBtf's
// `relocations`), never larger than budget.max_report_bytes when dumped:
//   {"strings": [S0, S1, ...], "relocations": [[object, section, relo, insn,
//    kind, local, target, candidates, matches], ...]}
// Every string (object and section names, relocation kinds, specs) appears
// once in "strings", valid UTF-8, in the order first used; a relocation is a
// row of integers in the objects' order. object, section, kind and local are
// indexes into "strings": the object's name, the ELF section holding the
// instruction, libbpf's name for the relocation kind ("byte_off", "type_exists",
// ...) and the local spec as libbpf logs it ("[5] struct task_struct.pid (0:10 @
// offset 1240)"). relo is the relocation's index within its section ("relo #N"
// in libbpf's log), insn the instruction's index in the section. target is the
// index of the first matching candidate's spec in the kernel's BTF, -1 when no
// candidate matched, -2 for a local_type_id relocation, which needs no kernel
// type. candidates counts the kernel types examined, matches those that
// matched; the minimized BTF keeps every match. With report_ambiguity a row
// has a tenth element when libbpf would refuse the relocation as ambiguous:
// the index of its message (btfd's replies never have one).
nlohmann::json compact_report(const MinimizeResult& result);

}  // namespace btfd::btf
