// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// libbpf 1.1's CO-RE rules, re-implemented on its public BTF API: access-string
// parsing into a spec, candidate matching (fields, type compatibility, type
// matching, enum values) and the value a relocation resolves to. The minimizer
// replays them so that it keeps exactly what libbpf will look at.

#include <bpf/btf.h>
#include <linux/bpf.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "btf/btf_view.hpp"
#include "btf/budget.hpp"
#include "util/result.hpp"

namespace btfd::btf {

inline constexpr int kMaxSpecLen = 64;

const char* relo_kind_name(uint32_t kind);
bool is_field_kind(uint32_t kind);
bool is_type_kind(uint32_t kind);
bool is_enum_kind(uint32_t kind);

// Follows CONST, VOLATILE, RESTRICT, TYPE_TAG and TYPEDEF; *id is updated.
const struct btf_type* skip_mods_and_typedefs(const BtfView* btf, uint32_t id, uint32_t* res_id);
// Length of the name without its "___flavor" suffix.
size_t essential_name_len(std::string_view name);
inline std::string_view essential_name(std::string_view name) { return name.substr(0, essential_name_len(name)); }
// Kinds libbpf treats as the same for candidates (equal, or ENUM/ENUM64).
bool kinds_core_compat(const struct btf_type* a, const struct btf_type* b);

struct Accessor {
  uint32_t type_id = 0;
  uint32_t idx = 0;
  const char* name = nullptr;  // null for array/root accessors
};

struct Spec {
  const BtfView* btf = nullptr;
  uint32_t root_type_id = 0;
  uint32_t kind = 0;
  std::vector<Accessor> spec;  // high-level accessors
  std::vector<uint32_t> raw;   // raw indices, including anonymous levels
  // libbpf's __u32: a hostile access string or type size wraps it as it wraps
  // libbpf's, with no signed overflow on the way.
  uint32_t bit_offset = 0;
};

// Builds the local spec from an access string. Errors are hard errors (libbpf
// fails the load on them). Indices are libbpf's: decimal, 0..INT_MAX.
Result<Spec> parse_local_spec(const BtfView* local, uint32_t type_id, const char* access, uint32_t kind);

// 1 = match, 0 = no match, <0 = error (as libbpf). targ is filled on match.
// With a budget, -ECANCELED when it says stop (budget->stop_error() says why).
int match_candidate(const Spec& local, const BtfView* targ_btf, uint32_t targ_id, Spec* targ,
                    CallBudget* budget = nullptr);

struct RelocValue {
  bool poison = false;
  uint64_t value = 0;
};
// The value a relocation takes for a matched target spec (or local == targ for
// the local side). Errors (bitfield too large, bad kind on an array) are hard.
Result<RelocValue> relo_value(const Spec& spec, uint32_t kind);

// "[5] struct task_struct.real_parent (0:95 @ offset 1280)"
std::string format_spec(const Spec& spec);
// The same without the type id and the offsets: "struct task_struct.real_parent",
// "enum bpf_map_type::BPF_MAP_TYPE_RINGBUF", "struct file" (what a report names).
std::string format_access(const Spec& spec);

}  // namespace btfd::btf
