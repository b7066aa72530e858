// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Parser for the CO-RE relocation part of a BPF object's .BTF.ext section, with
// libbpf 1.1's rules (header, subsection layout, record sizes) checked strictly:
// the bytes come from clients and must never be trusted.

#include <cstdint>
#include <span>
#include <vector>

#include "util/result.hpp"

namespace btfd::btf {

struct CoreRelo {
  uint32_t sec_name_off;  // .BTF string offset of the ELF section name
  uint32_t index;         // record index within its section block ("relo #N")
  uint32_t insn_off;
  uint32_t type_id;
  uint32_t access_str_off;
  uint32_t kind;
};

inline constexpr uint32_t kMaxCoreRelos = 1u << 20;

// Returns every CO-RE relocation record in file order. A section without a
// core_relo subsection (hdr_len < 32 or length 0) yields an empty list.
Result<std::vector<CoreRelo>> parse_core_relos(std::span<const uint8_t> ext);
// How many records parse_core_relos() will return (it fails the same way),
// found without allocating: a caller checks its budget first.
Result<uint32_t> count_core_relos(std::span<const uint8_t> ext);

}  // namespace btfd::btf
