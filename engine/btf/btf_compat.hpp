// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// BTF for readers older than the kernel that wrote it: a "compatibility
// level" names the newest BTF a reader understands (a kernel release, or an
// alias for a reader people have, such as cilium/ebpf 0.9), and
// rewrite_for_level() replaces every record that reader would refuse by a
// stand-in it accepts. A kernel's BTF is otherwise useless to such a reader:
// it stops at the first kind it does not know ("unknown kind 19").
//
// What stays the same, whatever the level:
// - type ids: every record becomes exactly one record, so references, the
//   minimizer's reports and .BTF.ext-style ids stay valid;
// - every record of the kinds the reader knows (INT, PTR, ARRAY, STRUCT,
//   UNION, ENUM, FWD, TYPEDEF, the modifiers, FUNC_PROTO), byte for byte,
//   except two bits no CO-RE rule reads (a FUNC's linkage, a signed ENUM's
//   kind_flag);
// - sizes: a stand-in has the size of what it replaces, so structs that hold
//   one keep their layout.
// The stand-ins (one table, kFeatures in btf_compat.cpp, says which kernel
// introduced what):
//   VAR        -> INT of 1 byte, the variable's name (5.2)
//   DATASEC    -> anonymous STRUCT of the section's size, no members (5.2)
//   FUNC linkage global/extern -> static (5.6)
//   FLOAT      -> anonymous STRUCT of the same size, no members (5.13)
//   DECL_TAG   -> anonymous INT of 1 byte (5.16)
//   TYPE_TAG   -> CONST of the same type: CO-RE skips both alike (5.17)
//   ENUM64     -> ENUM of the same size with the enumerators whose values fit
//                 in 32 bits (as libbpf reads an ENUM value: sign-extended);
//                 the others are left out (6.0)
//   ENUM kind_flag (signedness) -> cleared (6.0)
//   DECL_TAG/TYPE_TAG with kind_flag (attribute tags) -> the stand-ins above,
//                 as a tag without the flag means something else (6.15)
// What such a reader can no longer compute is in docs/protocol.md ("BTF for
// older readers").

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace btfd::btf {

// BTF features past the oldest level, each introduced by one kernel release.
enum CompatFeature : uint32_t {
  kVarDatasec = 1u << 0,
  kFuncLinkage = 1u << 1,
  kFloat = 1u << 2,
  kDeclTag = 1u << 3,
  kTypeTag = 1u << 4,
  kEnum64 = 1u << 5,  // and the ENUM kind_flag (signed enums)
  kTagKindFlag = 1u << 6,
};

struct CompatLevel {
  std::string name;       // as the caller wrote it, trimmed to what was understood
  uint32_t features = 0;  // CompatFeature bits the reader understands
};

// "5.13", "6.1", a release such as "5.10.0-28-amd64" (its X.Y counts), or an
// alias ("cilium-ebpf-0.9"). Errc::invalid_argument naming the level and
// listing the known ones (compat_level_names()) otherwise; 5.0 is the oldest.
Result<CompatLevel> parse_compat_level(std::string_view name);
// "5.0 or any later X.Y (features begin at 5.2, 5.6, ...); aliases: ..."
std::string compat_level_names();
// Every feature a level lacks, for docs and reports: "BTF_KIND_ENUM64, ...".
std::string compat_missing(const CompatLevel& level);

struct CompatStats {
  uint32_t types_rewritten = 0;       // records replaced or changed
  uint32_t enumerators_dropped = 0;   // ENUM64 values that do not fit 32 bits
};

// Raw BTF a reader of `level` accepts, with the same type ids. Validates its
// input (btf_validate.hpp) first; the output is never larger than the input
// and passes btf_validate and libbpf's btf__new. `bytes` 4-byte aligned.
Result<std::vector<uint8_t>> rewrite_for_level(std::span<const uint8_t> bytes, const CompatLevel& level,
                                               CompatStats* stats = nullptr);

}  // namespace btfd::btf
