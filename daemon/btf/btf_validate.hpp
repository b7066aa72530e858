// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The one check every untrusted raw BTF passes before anything reads it: a
// mirror's kernel, a kernel file mapped from disk, a client object's .BTF.
// After it, every name offset in a record names a NUL-terminated string and
// every type id a record refers to exists, so readers need no checks of their
// own to stay in bounds. It checks what libbpf >= 1.3 checks on btf__new
// (btf_sanity_check: names, referenced ids, FUNC -> FUNC_PROTO, known kinds)
// plus a few framing and size rules the kernel's verifier applies that keep
// hostile bytes from costing memory or confusing the emitter (no padding or
// gaps, enum sizes, union member offsets). Identifiers are not checked for
// being C identifiers: nothing here depends on it, and reports are made valid
// UTF-8 where they are printed (utf8.hpp).
//
// Header-only on purpose: btfd-fetch checks downloads with it and links the
// hub module alone, not the BTF module.

#include <linux/btf.h>

#include <bpf/btf.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace btfd::btf {

// A validated BTF's sections, and where each type's record starts.
struct BtfLayout {
  const uint8_t* types = nullptr;
  uint32_t type_len = 0;
  const char* strs = nullptr;
  uint32_t str_len = 0;
  std::vector<uint32_t> offsets;  // offsets[id]: byte offset in the type section; [0] is void's
};

// Bytes a type record occupies (header and kind-specific data), or 0 for an
// unknown kind.
inline size_t btf_record_size(const struct btf_type* t) {
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

namespace validate_detail {

inline Error type_error(uint32_t id, const std::string& what) {
  return make_error(Errc::corrupt, "BTF type [" + std::to_string(id) + "]: " + what);
}

inline std::string item(const char* what, uint32_t idx) { return std::string(what) + " " + std::to_string(idx); }

// The type ids a record refers to go through one sink, so the range check can
// run after the pass that counts the types (one pass, not two).
struct Refs {
  uint32_t max = 0;             // largest id referred to so far
  uint32_t from = 0;            // the type that refers to it
  const char* field = nullptr;  // and through what
  int idx = -1;
  void add(uint32_t ref, uint32_t id, const char* f, int i = -1) {
    if (ref <= max) return;
    max = ref;
    from = id;
    field = f;
    idx = i;
  }
  std::string what() const { return idx < 0 ? std::string(field) : item(field, static_cast<uint32_t>(idx)); }
};

inline bool is_func_proto(const BtfLayout& l, uint32_t id) {
  return id != 0 && btf_is_func_proto(reinterpret_cast<const struct btf_type*>(l.types + l.offsets[id]));
}

}  // namespace validate_detail

// Native byte order only. `bytes` must be 4-byte aligned (mapped files and
// heap buffers are); the layout points into them.
inline Result<BtfLayout> validate_btf(std::span<const uint8_t> bytes) {
  using validate_detail::item;
  using validate_detail::type_error;
  struct btf_header hdr;
  if (bytes.size() < sizeof(hdr)) return make_error(Errc::corrupt, "BTF is shorter than its header");
  if (reinterpret_cast<uintptr_t>(bytes.data()) % 4 != 0)
    return make_error(Errc::internal, "BTF bytes are not 4-byte aligned in memory");
  std::memcpy(&hdr, bytes.data(), sizeof(hdr));
  if (hdr.magic != BTF_MAGIC) return make_error(Errc::corrupt, "not raw BTF in this host's byte order (bad magic)");
  if (hdr.version != BTF_VERSION)
    return make_error(Errc::unsupported, "BTF version " + std::to_string(hdr.version) + " is not supported");
  if (hdr.hdr_len < sizeof(hdr) || hdr.hdr_len > bytes.size())
    return make_error(Errc::corrupt, "BTF header length " + std::to_string(hdr.hdr_len) + " is invalid");
  const uint64_t data_len = bytes.size() - hdr.hdr_len;
  if ((hdr.hdr_len + uint64_t{hdr.type_off}) % 4 != 0) return make_error(Errc::corrupt, "BTF type section is misaligned");
  if (uint64_t{hdr.str_off} + hdr.str_len > data_len || uint64_t{hdr.type_off} + hdr.type_len > hdr.str_off)
    return make_error(Errc::corrupt, "BTF sections lie outside the data or overlap");
  // libbpf tolerates bytes the header does not declare; the kernel does not,
  // and neither do we: they can only be padding (a small archive that unpacks
  // to a huge "kernel") or something hidden.
  if (hdr.type_off != 0)
    return make_error(Errc::corrupt, "BTF has " + std::to_string(hdr.type_off) + " undeclared bytes before its type section");
  if (hdr.str_off != hdr.type_off + hdr.type_len)
    return make_error(Errc::corrupt, "BTF has " + std::to_string(hdr.str_off - hdr.type_off - hdr.type_len) +
                                         " undeclared bytes between its type and string sections");
  if (uint64_t{hdr.str_off} + hdr.str_len != data_len)
    return make_error(Errc::corrupt, "BTF has " + std::to_string(data_len - hdr.str_off - hdr.str_len) +
                                         " bytes past its string section (padding or trailing garbage)");
  BtfLayout l;
  l.types = bytes.data() + hdr.hdr_len + hdr.type_off;
  l.type_len = hdr.type_len;
  l.strs = reinterpret_cast<const char*>(bytes.data() + hdr.hdr_len + hdr.str_off);
  l.str_len = hdr.str_len;
  if (hdr.str_len == 0 || hdr.str_len > 0x7fffffffu || l.strs[0] != '\0')
    return make_error(Errc::corrupt, "BTF string section is malformed (empty, too large, or not starting with \"\")");
  // Names at offsets up to the last NUL are terminated. An unterminated tail is
  // reported against the first type that names it, then against the section.
  uint32_t terminated = hdr.str_len;
  while (l.strs[terminated - 1] != '\0') --terminated;
  auto check_str = [&](uint32_t off, uint32_t id, const std::string& what) -> Status {
    if (off < terminated) return {};
    if (off < l.str_len)
      return type_error(id, what + " at string offset " + std::to_string(off) + " is not NUL-terminated");
    return type_error(id, what + " offset " + std::to_string(off) + " is past the string section (" +
                              std::to_string(l.str_len) + " bytes)");
  };
  validate_detail::Refs refs;
  std::vector<uint32_t> funcs_ahead;  // FUNCs whose prototype comes later
  // Each record is at least 12 bytes: reserving by that bound avoids regrowth.
  l.offsets.reserve(hdr.type_len / sizeof(struct btf_type) + 1);
  l.offsets.push_back(0);  // void
  for (uint32_t off = 0; off < hdr.type_len;) {
    const auto id = static_cast<uint32_t>(l.offsets.size());
    if (hdr.type_len - off < sizeof(struct btf_type)) return type_error(id, "record is truncated");
    const auto* t = reinterpret_cast<const struct btf_type*>(l.types + off);
    const size_t sz = btf_record_size(t);
    if (sz == 0) return type_error(id, "unknown kind " + std::to_string(btf_kind(t)));
    if (sz > hdr.type_len - off)
      return type_error(id, "record of " + std::to_string(sz) + " bytes (vlen " + std::to_string(btf_vlen(t)) +
                                ") runs past the type section");
    if (t->name_off >= terminated) BTFD_TRY_VOID(check_str(t->name_off, id, "name"));
    const uint16_t vlen = btf_vlen(t);
    switch (btf_kind(t)) {
      case BTF_KIND_INT:
      case BTF_KIND_FWD:
      case BTF_KIND_FLOAT: break;
      case BTF_KIND_PTR:
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_VAR:
      case BTF_KIND_DECL_TAG:
      case BTF_KIND_TYPE_TAG: refs.add(t->type, id, "referenced type"); break;
      case BTF_KIND_FUNC:
        refs.add(t->type, id, "prototype");
        if (t->type >= id) funcs_ahead.push_back(id);
        else if (!validate_detail::is_func_proto(l, t->type))
          return type_error(id, "FUNC refers to type [" + std::to_string(t->type) + "], which is not a FUNC_PROTO");
        break;
      case BTF_KIND_ARRAY:
        refs.add(btf_array(t)->type, id, "element type");
        refs.add(btf_array(t)->index_type, id, "index type");
        break;
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION: {
        const struct btf_member* m = btf_members(t);
        const bool is_union = btf_is_union(t);
        for (uint32_t i = 0; i < vlen; ++i, ++m) {
          if (m->name_off >= terminated) BTFD_TRY_VOID(check_str(m->name_off, id, item("member", i) + " name"));
          refs.add(m->type, id, "member", static_cast<int>(i));
          const uint32_t bit_off = btf_member_bit_offset(t, i);
          if (is_union && bit_off != 0)
            return type_error(id, "union " + item("member", i) + " is at bit offset " + std::to_string(bit_off) + ", not 0");
          if ((uint64_t{bit_off} + 7) / 8 > t->size)
            return type_error(id, item("member", i) + " starts past the end of its " + std::to_string(t->size) +
                                      "-byte " + (is_union ? "union" : "struct"));
        }
        break;
      }
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64: {
        if (t->size != 1 && t->size != 2 && t->size != 4 && t->size != 8)
          return type_error(id, "enum size " + std::to_string(t->size) + " is not 1, 2, 4 or 8");
        const bool is64 = btf_is_enum64(t);
        for (uint32_t i = 0; i < vlen; ++i) {
          uint32_t name = is64 ? btf_enum64(t)[i].name_off : btf_enum(t)[i].name_off;
          if (name >= terminated) BTFD_TRY_VOID(check_str(name, id, item("enumerator", i) + " name"));
        }
        break;
      }
      case BTF_KIND_FUNC_PROTO: {
        refs.add(t->type, id, "return type");
        const struct btf_param* p = btf_params(t);
        for (uint32_t i = 0; i < vlen; ++i, ++p) {
          if (p->name_off >= terminated) BTFD_TRY_VOID(check_str(p->name_off, id, item("parameter", i) + " name"));
          refs.add(p->type, id, "parameter", static_cast<int>(i));
        }
        break;
      }
      case BTF_KIND_DATASEC: {
        const struct btf_var_secinfo* v = btf_var_secinfos(t);
        for (uint32_t i = 0; i < vlen; ++i, ++v) refs.add(v->type, id, "variable", static_cast<int>(i));
        break;
      }
      default: break;  // btf_record_size() knows no other kind
    }
    l.offsets.push_back(off);
    off += static_cast<uint32_t>(sz);
  }
  const auto count = static_cast<uint32_t>(l.offsets.size());
  if (refs.max >= count)
    return type_error(refs.from, refs.what() + " refers to type [" + std::to_string(refs.max) + "], past the last type [" +
                                     std::to_string(count - 1) + "]");
  for (uint32_t id : funcs_ahead) {
    const auto* t = reinterpret_cast<const struct btf_type*>(l.types + l.offsets[id]);
    if (!validate_detail::is_func_proto(l, t->type))
      return type_error(id, "FUNC refers to type [" + std::to_string(t->type) + "], which is not a FUNC_PROTO");
  }
  if (terminated != l.str_len)
    return make_error(Errc::corrupt, "BTF string section does not end with a NUL (its last " +
                                         std::to_string(l.str_len - terminated) + " bytes are unterminated)");
  return l;
}

}  // namespace btfd::btf
