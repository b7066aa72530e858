// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// A small BTF with one type of every kind, built with libbpf's writer, and
// helpers to damage one field of one record: the raw material of the
// hostile-BTF tests (header-only: the hub's tests use it without the BTF module).
#include <bpf/btf.h>

#include <cstring>
#include <memory>
#include <vector>

#include "btf/btf_validate.hpp"

namespace btfd::test {

struct EveryKind {
  int i, ptr, tdef, arr, s, u, e, proto, func, var, sec, dtag, ttag, e64, fwd, flt, cnst, task, last;
  std::vector<uint8_t> raw;

  EveryKind() {
    std::unique_ptr<struct btf, decltype(&btf__free)> b(btf__new_empty(), btf__free);
    struct btf* p = b.get();
    i = btf__add_int(p, "int", 4, BTF_INT_SIGNED);
    ptr = btf__add_ptr(p, i);
    tdef = btf__add_typedef(p, "int_t", i);
    arr = btf__add_array(p, i, i, 4);
    s = btf__add_struct(p, "s", 16);
    btf__add_field(p, "a", i, 0, 0);
    btf__add_field(p, "b", ptr, 64, 0);
    u = btf__add_union(p, "u", 4);
    btf__add_field(p, "x", i, 0, 0);
    e = btf__add_enum(p, "e", 4);
    btf__add_enum_value(p, "A", 1);
    proto = btf__add_func_proto(p, i);
    btf__add_func_param(p, "arg", i);
    func = btf__add_func(p, "f", BTF_FUNC_GLOBAL, proto);
    var = btf__add_var(p, "v", BTF_VAR_GLOBAL_ALLOCATED, i);
    sec = btf__add_datasec(p, ".data", 4);
    btf__add_datasec_var_info(p, var, 0, 4);
    dtag = btf__add_decl_tag(p, "dtag", s, -1);
    ttag = btf__add_type_tag(p, "ttag", i);
    e64 = btf__add_enum64(p, "e64", 8, false);
    btf__add_enum64_value(p, "B", 1ull << 40);
    fwd = btf__add_fwd(p, "fw", BTF_FWD_STRUCT);
    flt = btf__add_float(p, "float", 4);
    cnst = btf__add_const(p, i);
    task = btf__add_struct(p, "task_struct", 4);  // what the hub looks for in a kernel
    btf__add_field(p, "pid", i, 0, 0);
    last = btf__add_struct(p, "zlast", 0);  // its name is the last string
    __u32 size = 0;
    auto* d = static_cast<const uint8_t*>(btf__raw_data(p, &size));
    raw.assign(d, d + size);
  }

  struct btf_header hdr() const {
    struct btf_header h;
    std::memcpy(&h, raw.data(), sizeof(h));
    return h;
  }
  // Byte offset in raw of type id's record (the BTF must be the undamaged one).
  size_t record(int id) const {
    auto l = btf::validate_btf(raw);
    return hdr().hdr_len + hdr().type_off + l.value().offsets.at(static_cast<size_t>(id));
  }
  // A copy with the 32-bit word at byte `at` of type id's record set to v.
  std::vector<uint8_t> with_word(int id, size_t at, uint32_t v) const {
    auto out = raw;
    std::memcpy(out.data() + record(id) + at, &v, 4);
    return out;
  }
};

// Offsets of fields within a record: the btf_type header, then kind data.
inline constexpr size_t kNameOff = 0, kInfo = 4, kType = 8, kData = sizeof(struct btf_type);

}  // namespace btfd::test
