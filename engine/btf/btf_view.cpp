// SPDX-License-Identifier: GPL-2.0-or-later
#include "btf/btf_view.hpp"

#include <bpf/btf.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string_view>

namespace btfd::btf {

const struct btf_type BtfView::kVoid{};

Result<BtfView> BtfView::parse(std::span<const uint8_t> bytes) {
  BTFD_TRY(BtfLayout layout, validate_btf(bytes));
  BtfView v;
  v.raw_ = bytes;
  v.types_ = layout.types;
  v.strs_ = layout.strs;
  v.str_len_ = layout.str_len;
  v.offsets_ = std::move(layout.offsets);
  v.offsets_.shrink_to_fit();
  // libbpf's rule: the size of the first 4- or 8-byte INT named like `long`.
  static constexpr std::string_view kLong[] = {"long",
                                               "long int",
                                               "int long",
                                               "unsigned long",
                                               "long unsigned",
                                               "unsigned long int",
                                               "unsigned int long",
                                               "long unsigned int",
                                               "long int unsigned",
                                               "int unsigned long",
                                               "int long unsigned"};
  for (uint32_t id = 1; id < v.type_cnt() && !v.ptr_size_; ++id) {
    const struct btf_type* t = v.type_at(id);
    if (!btf_is_int(t) || (t->size != 4 && t->size != 8)) continue;
    const char* name = v.name_by_offset(t->name_off);
    if (!name) continue;
    for (auto alias : kLong) {
      if (alias != name) continue;
      v.ptr_size_ = static_cast<int>(t->size);
      v.ptr_size_id_ = id;
      break;
    }
  }
  return v;
}

const struct btf_type* BtfView::type_by_id(uint32_t id) const {
  if (id == 0) return &kVoid;
  return id < offsets_.size() ? type_at(id) : nullptr;
}

long BtfView::resolve_size(uint32_t id) const {
  const struct btf_type* t = type_by_id(id);
  uint64_t nelems = 1;
  long size = -1;
  for (int depth = 0; depth < 32 && t; ++depth) {
    switch (btf_kind(t)) {
      case BTF_KIND_INT:
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64:
      case BTF_KIND_DATASEC:
      case BTF_KIND_FLOAT: size = t->size; break;
      case BTF_KIND_PTR: size = ptr_size_ ? ptr_size_ : static_cast<long>(sizeof(void*)); break;
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_VAR:
      case BTF_KIND_DECL_TAG:
      case BTF_KIND_TYPE_TAG: t = type_by_id(t->type); continue;
      case BTF_KIND_ARRAY: {
        const struct btf_array* a = btf_array(t);
        if (nelems && a->nelems > UINT32_MAX / nelems) return -E2BIG;
        nelems *= a->nelems;
        t = type_by_id(a->type);
        continue;
      }
      default: return -EINVAL;
    }
    break;
  }
  if (size < 0) return -EINVAL;
  if (nelems && static_cast<uint64_t>(size) > UINT32_MAX / nelems) return -E2BIG;
  return static_cast<long>(nelems * static_cast<uint64_t>(size));
}

}  // namespace btfd::btf
