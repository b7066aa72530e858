// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The check of a module's split BTF (types and strings that continue a
// kernel's: ids past the base's last, string offsets past the base's string
// section). Base and split laid end to end are one ordinary BTF with the same
// ids and offsets, so the one validation of untrusted BTF (btf_validate)
// checks the split part's every name and reference too, against the base.

#include <cstdint>
#include <span>
#include <vector>

#include "util/result.hpp"

namespace btfd::debuginfo {

// base: a kernel's raw BTF (already validated); split: what pahole --btf_base
// wrote. The joined BTF, for btf::validate_btf.
Result<std::vector<uint8_t>> join_split(std::span<const uint8_t> base, std::span<const uint8_t> split);
// join_split, then btf::validate_btf on the result, and at most max_bytes of split.
Status check_split_btf(std::span<const uint8_t> base, std::span<const uint8_t> split, uint64_t max_bytes);

}  // namespace btfd::debuginfo
