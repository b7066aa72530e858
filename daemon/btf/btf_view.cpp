// SPDX-License-Identifier: GPL-2.0-or-later
#include "btf/btf_view.hpp"

#include <bpf/btf.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string_view>

namespace btfd::btf {

const struct btf_type BtfView::kVoid{};

size_t btf_record_size(const struct btf_type* t) {
  const size_t base = sizeof(struct btf_type);
  const size_t vlen = btf_vlen(t);
  switch (btf_kind(t)) {
    case BTF_KIND_FWD:
    case BTF_KIND_CONST:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_PTR:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_FUNC:
    case BTF_KIND_FLOAT:
    case BTF_KIND_TYPE_TAG: return base;
    case BTF_KIND_INT: return base + sizeof(__u32);
    case BTF_KIND_ENUM: return base + vlen * sizeof(struct btf_enum);
    case BTF_KIND_ENUM64: return base + vlen * sizeof(struct btf_enum64);
    case BTF_KIND_ARRAY: return base + sizeof(struct btf_array);
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION: return base + vlen * sizeof(struct btf_member);
    case BTF_KIND_FUNC_PROTO: return base + vlen * sizeof(struct btf_param);
    case BTF_KIND_VAR: return base + sizeof(struct btf_var);
    case BTF_KIND_DATASEC: return base + vlen * sizeof(struct btf_var_secinfo);
    case BTF_KIND_DECL_TAG: return base + sizeof(struct btf_decl_tag);
    default: return 0;
  }
}

Result<BtfView> BtfView::parse(std::span<const uint8_t> bytes) {
  struct btf_header hdr;
  if (bytes.size() < sizeof(hdr)) return make_error(Errc::corrupt, "BTF is shorter than its header");
  std::memcpy(&hdr, bytes.data(), sizeof(hdr));
  if (hdr.magic != BTF_MAGIC) return make_error(Errc::corrupt, "not raw BTF in this host's byte order (bad magic)");
  if (hdr.hdr_len < sizeof(hdr) || hdr.hdr_len > bytes.size())
    return make_error(Errc::corrupt, "BTF header length is invalid");
  const uint64_t data_len = bytes.size() - hdr.hdr_len;
  if (hdr.type_off % 4 != 0) return make_error(Errc::corrupt, "BTF type section is misaligned");
  if (uint64_t{hdr.str_off} + hdr.str_len > data_len || uint64_t{hdr.type_off} + hdr.type_len > hdr.str_off)
    return make_error(Errc::corrupt, "BTF sections lie outside the data or overlap");
  const uint8_t* data = bytes.data() + hdr.hdr_len;
  BtfView v;
  v.raw_ = bytes;
  v.types_ = data + hdr.type_off;
  v.strs_ = reinterpret_cast<const char*>(data + hdr.str_off);
  v.str_len_ = hdr.str_len;
  if (hdr.str_len == 0 || hdr.str_len > 0x7fffffffu || v.strs_[0] != '\0' || v.strs_[hdr.str_len - 1] != '\0')
    return make_error(Errc::corrupt, "BTF string section is malformed");
  // Each record is at least 12 bytes: reserving by that bound avoids regrowth.
  v.offsets_.reserve(hdr.type_len / sizeof(struct btf_type) + 1);
  v.offsets_.push_back(0);  // void
  for (uint32_t off = 0; off < hdr.type_len;) {
    if (hdr.type_len - off < sizeof(struct btf_type))
      return make_error(Errc::corrupt, "BTF type [" + std::to_string(v.offsets_.size()) + "] is truncated");
    const auto* t = reinterpret_cast<const struct btf_type*>(v.types_ + off);
    size_t sz = btf_record_size(t);
    if (sz == 0)
      return make_error(Errc::corrupt, "BTF type [" + std::to_string(v.offsets_.size()) + "] has unknown kind " +
                                           std::to_string(btf_kind(t)));
    if (sz > hdr.type_len - off)
      return make_error(Errc::corrupt, "BTF type [" + std::to_string(v.offsets_.size()) + "] is truncated");
    v.offsets_.push_back(off);
    off += static_cast<uint32_t>(sz);
  }
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
