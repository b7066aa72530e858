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

#include "btf/kernel_btf.hpp"

namespace btfd::btf {

struct ObjectInput {
  std::string name;
  std::span<const uint8_t> bytes;
};

struct RelocReport {
  std::string object;
  std::string section;
  uint32_t index = 0;        // "relo #N" within its section
  uint32_t insn = 0;         // instruction index in the section
  std::string kind;          // libbpf's name, e.g. "byte_off"
  std::string local_spec;    // "[5] struct task_struct.real_parent (0:95 @ offset 1280)"
  std::string access;        // the local spec without ids and offsets: "struct task_struct.real_parent"
  std::string target_spec;   // first matching candidate's spec, or "" when none matched
  uint32_t candidates = 0;   // candidates examined
  uint32_t matches = 0;      // candidates that matched (all of them are kept)
  bool skipped = false;      // TYPE_ID_LOCAL: needs no target BTF
  // With MinimizeOptions::report_ambiguity: libbpf's ambiguity error for this
  // relocation (libbpf fails the object's load on it), else "".
  std::string ambiguity;
};

struct MinimizeOptions {
  // false: relocate and report only, no BTF is emitted (btfctl check).
  bool emit = true;
  // true: an ambiguous relocation is reported in RelocReport::ambiguity and the
  // run goes on (a compatibility report lists it); false: it fails the run, as
  // there is no BTF that would make libbpf load the object.
  bool report_ambiguity = false;
};

struct MinimizeResult {
  std::vector<uint8_t> btf;  // raw BTF, deterministic for the same inputs
  std::vector<RelocReport> relocs;
  uint32_t types = 0;        // types in the output
};

// The essential names minimize() will look up in the kernel for these objects
// (what a one-shot run indexes); fails as minimize() would on a bad object.
Result<KernelBtf::NameFilter> lookup_names(std::span<const ObjectInput> objects);
Result<MinimizeResult> minimize(const KernelBtf& kernel, std::span<const ObjectInput> objects,
                                const MinimizeOptions& options = {});
nlohmann::json report_to_json(const std::vector<RelocReport>& relocs);

}  // namespace btfd::btf
