// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// A validated, read-only view of raw BTF bytes that answers the questions the
// CO-RE rules ask (type by id, string by offset, resolved size, pointer size)
// with libbpf's semantics. It exists so a kernel BTF is read where it lies:
// libbpf's btf__new copies its input, which doubles the footprint of a 44 MB
// kernel and costs a full extra pass on every cold run.

#include <linux/btf.h>

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "btf/btf_validate.hpp"
#include "util/result.hpp"

namespace btfd::btf {

class BtfView {
 public:
  BtfView() = default;
  // Runs validate_btf() (btf_validate.hpp: framing, every record's size, names
  // and referenced ids), so nothing reading through the view can leave the
  // bytes; `bytes` must outlive the view. Native byte order only.
  static Result<BtfView> parse(std::span<const uint8_t> bytes);

  // Type ids run 1..type_cnt()-1; id 0 is void (a zeroed record), as in libbpf.
  uint32_t type_cnt() const { return static_cast<uint32_t>(offsets_.size()); }
  // nullptr when id is out of range (libbpf's btf__type_by_id).
  const struct btf_type* type_by_id(uint32_t id) const;
  // For loops over 1..type_cnt()-1 that need no range check.
  [[gnu::returns_nonnull]] const struct btf_type* type_at(uint32_t id) const {
    return reinterpret_cast<const struct btf_type*>(types_ + offsets_[id]);
  }
  // nullptr when off is outside the string table (libbpf's btf__name_by_offset);
  // never for a name_off read from one of the view's records.
  const char* name_by_offset(uint32_t off) const { return off < str_len_ ? strs_ + off : nullptr; }
  // The name at off, "" when it is outside the string table (lookups by name).
  std::string_view name_or_empty(uint32_t off) const {
    const char* s = name_by_offset(off);
    return s ? s : "";
  }
  // btf__resolve_size: bytes of a type after typedefs/modifiers/arrays; <0 on error.
  long resolve_size(uint32_t id) const;
  // btf__pointer_size: from a `long`-like INT; 0 when the BTF has none.
  int pointer_size() const { return ptr_size_; }
  // The INT that pointer_size() was read from (what libbpf on a loading host
  // will look for), or 0.
  uint32_t pointer_size_type() const { return ptr_size_id_; }
  std::span<const uint8_t> raw() const { return raw_; }

 private:
  static const struct btf_type kVoid;
  std::span<const uint8_t> raw_;
  const uint8_t* types_ = nullptr;
  const char* strs_ = nullptr;
  uint32_t str_len_ = 0;
  int ptr_size_ = 0;
  uint32_t ptr_size_id_ = 0;
  std::vector<uint32_t> offsets_;  // offsets_[id]: byte offset of the record in the type section
};

}  // namespace btfd::btf
