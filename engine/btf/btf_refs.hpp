// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Where a BTF type record refers to other types: the one table of reference
// fields per kind, for code that rewrites or follows every reference (the
// minimizer's emission, the output merge).

#include <linux/btf.h>

#include <bpf/btf.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace btfd::btf {

// Byte offsets, within a record, of the type ids it refers to, appended to out.
inline void ref_offsets(const struct btf_type* t, std::vector<uint32_t>& out) {
  constexpr uint32_t base = sizeof(struct btf_type);
  constexpr uint32_t type_field = offsetof(struct btf_type, type);
  const uint32_t vlen = btf_vlen(t);
  switch (btf_kind(t)) {
    case BTF_KIND_PTR:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_CONST:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_TYPE_TAG:
    case BTF_KIND_FUNC:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG: out.push_back(type_field); break;
    case BTF_KIND_ARRAY:
      out.push_back(base + offsetof(struct btf_array, type));
      out.push_back(base + offsetof(struct btf_array, index_type));
      break;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
      for (uint32_t i = 0; i < vlen; ++i)
        out.push_back(base + i * sizeof(struct btf_member) + offsetof(struct btf_member, type));
      break;
    case BTF_KIND_FUNC_PROTO:
      out.push_back(type_field);
      for (uint32_t i = 0; i < vlen; ++i)
        out.push_back(base + i * sizeof(struct btf_param) + offsetof(struct btf_param, type));
      break;
    case BTF_KIND_DATASEC:
      for (uint32_t i = 0; i < vlen; ++i)
        out.push_back(base + i * sizeof(struct btf_var_secinfo) + offsetof(struct btf_var_secinfo, type));
      break;
    default: break;  // INT, ENUM, ENUM64, FWD, FLOAT: no references
  }
}

}  // namespace btfd::btf
