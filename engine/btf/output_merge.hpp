// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Merges the types of a minimized BTF that are identical in the output: the
// same records (names, sizes, kept members, offsets...) referring to types that
// are themselves the same, cycles included. A kernel whose BTF was never
// deduplicated (CentOS 8's 4.18.0-147: 811 copies of task_struct) then gives
// one copy of each kept type instead of hundreds. Why libbpf's results stay
// the same is said in output_merge.cpp.

#include <cstdint>
#include <vector>

#include "btf/budget.hpp"
#include "util/result.hpp"

namespace btfd::btf {

// `raw` is a BTF as BtfWriter lays it out (types, then strings deduplicated).
// Returns it with one type per class of identical types, the lowest id of the
// class standing for it and every reference remapped to it; the string
// section is kept as it is. Unchanged, byte for byte, when no two types are
// identical. *types receives the output's type count. With a budget, its
// deadline is looked at between rounds (a long chain of types takes a round
// per link).
Result<std::vector<uint8_t>> merge_identical_types(std::vector<uint8_t> raw, uint32_t* types,
                                                   CallBudget* budget = nullptr);

}  // namespace btfd::btf
