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
// UTF-8 where they are printed (utf8.hpp). Loops that never end for a reader
// (a pointer/const/typedef cycle, a struct holding itself) are refused as the
// kernel refuses them; see check_loops.
//
// Header-only on purpose: btfd-fetch checks downloads with it and links the
// hub module alone, not the BTF module.

#include <linux/btf.h>

#include <bpf/btf.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
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

inline const struct btf_type* type_at(const BtfLayout& l, uint32_t id) {
  return reinterpret_cast<const struct btf_type*>(l.types + l.offsets[id]);
}

inline bool is_func_proto(const BtfLayout& l, uint32_t id) { return id != 0 && btf_is_func_proto(type_at(l, id)); }

// Loops. Readers follow two kinds of chain to their end: a C declaration or a
// size follows a type through modifiers, typedefs, pointers and array elements
// (libbpf's C dumper recurses along it with no bound); a size follows a struct
// into its members by value. A loop in either never ends, so, like the
// kernel's verifier, we refuse both: a chain through PTR/CONST/TYPEDEF/...
// that returns to where it started ("reference loop"), and a struct or union
// that contains itself by value, through members, array elements and
// modifiers ("containment loop"). A loop that passes a pointer to a struct or
// union, or a FUNC_PROTO, is how C writes a linked list or a callback taking
// its own type, and stays accepted: the pointer ends the by-value chain, the
// struct or prototype the declaration chain.

constexpr uint32_t kNoChain = 0xffffffffu;

// The next type on a declaration chain, or kNoChain where the chain ends.
inline uint32_t decl_next(const struct btf_type* t) {
  switch (btf_kind(t)) {
    case BTF_KIND_PTR:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_CONST:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_TYPE_TAG:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG: return t->type;
    case BTF_KIND_ARRAY: return btf_array(t)->type;
    default: return kNoChain;
  }
}

// What a type holds by value: the i-th of value_edges(t) types.
inline uint32_t value_edges(const struct btf_type* t) {
  switch (btf_kind(t)) {
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
    case BTF_KIND_DATASEC: return btf_vlen(t);
    case BTF_KIND_ARRAY: return 2;
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_CONST:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_TYPE_TAG:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG: return 1;
    default: return 0;  // PTR, FUNC_PROTO, FUNC and the leaves end it
  }
}
inline uint32_t value_edge(const struct btf_type* t, uint32_t i) {
  switch (btf_kind(t)) {
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION: return btf_members(t)[i].type;
    case BTF_KIND_DATASEC: return btf_var_secinfos(t)[i].type;
    case BTF_KIND_ARRAY: return i == 0 ? btf_array(t)->type : btf_array(t)->index_type;
    default: return t->type;
  }
}

inline const char* kind_name(const struct btf_type* t) {
  static constexpr const char* kNames[] = {"UNKN",     "INT",      "PTR",       "ARRAY",    "STRUCT", "UNION",     "ENUM",
                                           "FWD",      "TYPEDEF",  "VOLATILE",  "CONST",    "RESTRICT", "FUNC",   "FUNC_PROTO",
                                           "VAR",      "DATASEC",  "FLOAT",     "DECL_TAG", "TYPE_TAG", "ENUM64"};
  const unsigned k = btf_kind(t);
  return k < std::size(kNames) ? kNames[k] : "?";
}

// "BTF type [12] PTR -> [13] CONST -> [12]: reference loop"; a long loop is
// cut short in the message (it may be as long as the BTF).
inline Error loop_error(const BtfLayout& l, const uint32_t* loop, size_t n, const char* what) {
  constexpr size_t kShown = 8;
  std::string msg = "BTF type";
  for (size_t i = 0; i < n && i < kShown; ++i)
    msg += (i ? " -> [" : " [") + std::to_string(loop[i]) + "] " + kind_name(type_at(l, loop[i]));
  if (n > kShown) msg += " -> ... (" + std::to_string(n) + " types in all)";
  msg += " -> [" + std::to_string(loop[0]) + "]: " + what;
  return make_error(Errc::corrupt, msg);
}

// chains[id]: kDeclChain if type id is on declaration chains (decl_next),
// kHolds if it holds something by value (value_edges); noted by the pass that
// reads every record, so the walks below read no record of a type that ends
// every chain (most members refer to one).
enum : uint8_t { kDeclChain = 1, kHolds = 2 };
inline uint8_t chain_kinds(const struct btf_type* t) {
  return static_cast<uint8_t>((decl_next(t) != kNoChain ? kDeclChain : 0) | (value_edges(t) != 0 ? kHolds : 0));
}

enum : uint8_t { kNew = 0, kOnPath = 1, kDone = 2 };  // a type's state in a walk

// Declaration chains: every type has at most one next type, so each walk
// is a path that ends, joins a finished one, or closes on itself.
inline Status check_reference_loops(const BtfLayout& l, const std::vector<uint8_t>& chains, std::vector<uint8_t>& state,
                                    std::vector<uint32_t>& path) {
  const auto count = static_cast<uint32_t>(l.offsets.size());
  for (uint32_t id = 1; id < count; ++id) {
    if (state[id] != kNew || !(chains[id] & kDeclChain)) continue;
    path.clear();
    uint32_t x = id;
    uint32_t next = 0;
    while ((chains[x] & kDeclChain) && state[x] == kNew) {
      next = decl_next(type_at(l, x));
      state[x] = kOnPath;
      path.push_back(x);
      x = next;
    }
    if (state[x] == kOnPath) {
      size_t at = path.size();
      while (path[at - 1] != x) --at;
      return loop_error(l, path.data() + at - 1, path.size() - at + 1, "reference loop");
    }
    for (uint32_t p : path) state[p] = kDone;
  }
  return {};
}

// By-value containment: a depth-first walk with an explicit stack (a
// hostile BTF can be deep), of types that hold something by value.
inline Status check_containment_loops(const BtfLayout& l, const std::vector<uint8_t>& chains,
                                      std::vector<uint8_t>& state, std::vector<uint32_t>& path) {
  const auto count = static_cast<uint32_t>(l.offsets.size());
  struct Frame {
    uint32_t id, next_edge;
  };
  std::vector<Frame> stack;
  for (uint32_t root = 1; root < count; ++root) {
    if (state[root] != kNew || !(chains[root] & kHolds)) continue;
    state[root] = kOnPath;
    stack.push_back({root, 0});
    while (!stack.empty()) {
      const uint32_t u = stack.back().id;
      const struct btf_type* t = type_at(l, u);
      if (stack.back().next_edge == value_edges(t)) {
        state[u] = kDone;
        stack.pop_back();
        continue;
      }
      const uint32_t v = value_edge(t, stack.back().next_edge++);
      if (!(chains[v] & kHolds) || state[v] == kDone) continue;  // void holds nothing
      if (state[v] == kOnPath) {
        path.clear();
        size_t at = stack.size();
        while (stack[at - 1].id != v) --at;
        for (size_t i = at - 1; i < stack.size(); ++i) path.push_back(stack[i].id);
        return loop_error(l, path.data(), path.size(), "containment loop (a type holds itself by value)");
      }
      state[v] = kOnPath;
      stack.push_back({v, 0});
    }
  }
  return {};
}

// O(types + members): each type is entered once per chain kind.
inline Status check_loops(const BtfLayout& l, const std::vector<uint8_t>& chains) {
  std::vector<uint8_t> state(l.offsets.size(), kNew);
  std::vector<uint32_t> path;
  BTFD_TRY_VOID(check_reference_loops(l, chains, state, path));
  std::fill(state.begin(), state.end(), kNew);
  return check_containment_loops(l, chains, state, path);
}

// The header: magic, version, and sections that lie inside the bytes with
// nothing undeclared before, between or after them. The layout's section
// pointers on success.
inline Result<BtfLayout> check_header(std::span<const uint8_t> bytes) {
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
  return l;
}

// The string section, and the names records give in it. Names at offsets up
// to the last NUL are terminated. An unterminated tail is reported against
// the first type that names it, then (check_tail) against the section.
struct Strings {
  const char* strs;
  uint32_t len;
  uint32_t terminated;  // offsets below it name NUL-terminated strings

  // Callers test off < terminated first: the message is built for an error only.
  Status check(uint32_t off, uint32_t id, const std::string& what) const {
    if (off < terminated) return {};
    if (off < len) return type_error(id, what + " at string offset " + std::to_string(off) + " is not NUL-terminated");
    return type_error(id, what + " offset " + std::to_string(off) + " is past the string section (" +
                              std::to_string(len) + " bytes)");
  }
  Status check_tail() const {
    if (terminated == len) return {};
    return make_error(Errc::corrupt, "BTF string section does not end with a NUL (its last " +
                                         std::to_string(len - terminated) + " bytes are unterminated)");
  }
};

inline Result<Strings> check_strings(const BtfLayout& l) {
  if (l.str_len == 0 || l.str_len > 0x7fffffffu || l.strs[0] != '\0')
    return make_error(Errc::corrupt, "BTF string section is malformed (empty, too large, or not starting with \"\")");
  uint32_t terminated = l.str_len;
  while (l.strs[terminated - 1] != '\0') --terminated;
  return Strings{l.strs, l.str_len, terminated};
}

// What the pass over the records gathers for the checks that need every
// record read first. The per-record checks below say false, with error set,
// for a refused record: on the hot path (a kernel has 100 000 records or more)
// a bool costs less than building and destroying a Status per record. They
// are always inlined into the pass, as when it was one function: measured on
// a 5 MB kernel BTF, 8% slower when GCC -O2 calls them instead.
//
// The ids records refer to go to a Refs of the caller's, kept out of this
// struct (whose address escapes: push_back, fail) so that it stays in registers.
struct RecordPass {
  const BtfLayout& l;
  const Strings& str;
  std::vector<uint32_t> funcs_ahead;  // FUNCs whose prototype comes later
  Error error;

  bool fail(Error e) {
    error = std::move(e);
    return false;
  }
  // Called for an offset at or past str.terminated only.
  bool name_error(uint32_t off, uint32_t id, const char* what, uint32_t i) {
    return fail(std::move(str.check(off, id, item(what, i) + " name")).error());
  }
};

[[gnu::always_inline]] inline bool check_func(RecordPass& p, Refs& refs, const struct btf_type* t, uint32_t id) {
  refs.add(t->type, id, "prototype");
  if (t->type >= id) p.funcs_ahead.push_back(id);
  else if (!is_func_proto(p.l, t->type))
    return p.fail(type_error(id, "FUNC refers to type [" + std::to_string(t->type) + "], which is not a FUNC_PROTO"));
  return true;
}

// Member names and types; a union's members at offset 0, a struct's inside it.
[[gnu::always_inline]] inline bool check_members(RecordPass& p, Refs& refs, const struct btf_type* t, uint32_t id) {
  const uint32_t terminated = p.str.terminated;
  const uint16_t vlen = btf_vlen(t);
  const struct btf_member* m = btf_members(t);
  const bool is_union = btf_is_union(t);
  for (uint32_t i = 0; i < vlen; ++i, ++m) {
    if (m->name_off >= terminated) return p.name_error(m->name_off, id, "member", i);
    refs.add(m->type, id, "member", static_cast<int>(i));
    const uint32_t bit_off = btf_member_bit_offset(t, i);
    if (is_union && bit_off != 0)
      return p.fail(
          type_error(id, "union " + item("member", i) + " is at bit offset " + std::to_string(bit_off) + ", not 0"));
    if ((uint64_t{bit_off} + 7) / 8 > t->size)
      return p.fail(type_error(id, item("member", i) + " starts past the end of its " + std::to_string(t->size) +
                                       "-byte " + (is_union ? "union" : "struct")));
  }
  return true;
}

[[gnu::always_inline]] inline bool check_enum(RecordPass& p, const struct btf_type* t, uint32_t id) {
  const uint32_t terminated = p.str.terminated;
  if (t->size != 1 && t->size != 2 && t->size != 4 && t->size != 8)
    return p.fail(type_error(id, "enum size " + std::to_string(t->size) + " is not 1, 2, 4 or 8"));
  const uint16_t vlen = btf_vlen(t);
  const bool is64 = btf_is_enum64(t);
  for (uint32_t i = 0; i < vlen; ++i) {
    uint32_t name = is64 ? btf_enum64(t)[i].name_off : btf_enum(t)[i].name_off;
    if (name >= terminated) return p.name_error(name, id, "enumerator", i);
  }
  return true;
}

[[gnu::always_inline]] inline bool check_func_proto(RecordPass& p, Refs& refs, const struct btf_type* t, uint32_t id) {
  const uint32_t terminated = p.str.terminated;
  refs.add(t->type, id, "return type");
  const uint16_t vlen = btf_vlen(t);
  const struct btf_param* param = btf_params(t);
  for (uint32_t i = 0; i < vlen; ++i, ++param) {
    if (param->name_off >= terminated) return p.name_error(param->name_off, id, "parameter", i);
    refs.add(param->type, id, "parameter", static_cast<int>(i));
  }
  return true;
}

// One record's own checks (its name was checked by the caller); the types it
// refers to go to refs.
[[gnu::always_inline]] inline bool check_record(RecordPass& p, Refs& refs, const struct btf_type* t, uint32_t id) {
  switch (btf_kind(t)) {
    case BTF_KIND_INT:
    case BTF_KIND_FWD:
    case BTF_KIND_FLOAT: return true;
    case BTF_KIND_PTR:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG:
    case BTF_KIND_TYPE_TAG: refs.add(t->type, id, "referenced type"); return true;
    case BTF_KIND_FUNC: return check_func(p, refs, t, id);
    case BTF_KIND_ARRAY:
      refs.add(btf_array(t)->type, id, "element type");
      refs.add(btf_array(t)->index_type, id, "index type");
      return true;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION: return check_members(p, refs, t, id);
    case BTF_KIND_ENUM:
    case BTF_KIND_ENUM64: return check_enum(p, t, id);
    case BTF_KIND_FUNC_PROTO: return check_func_proto(p, refs, t, id);
    case BTF_KIND_DATASEC: {
      const uint16_t vlen = btf_vlen(t);
      const struct btf_var_secinfo* v = btf_var_secinfos(t);
      for (uint32_t i = 0; i < vlen; ++i, ++v) refs.add(v->type, id, "variable", static_cast<int>(i));
      return true;
    }
    default: return true;  // btf_record_size() knows no other kind
  }
}

// After every record is read: the largest id referred to exists, and FUNCs
// whose prototype came later refer to a FUNC_PROTO.
inline Status check_references(const RecordPass& p, const Refs& refs) {
  const auto count = static_cast<uint32_t>(p.l.offsets.size());
  if (refs.max >= count)
    return type_error(refs.from, refs.what() + " refers to type [" + std::to_string(refs.max) +
                                       "], past the last type [" + std::to_string(count - 1) + "]");
  for (uint32_t id : p.funcs_ahead) {
    const struct btf_type* t = type_at(p.l, id);
    if (!is_func_proto(p.l, t->type))
      return type_error(id, "FUNC refers to type [" + std::to_string(t->type) + "], which is not a FUNC_PROTO");
  }
  return {};
}

}  // namespace validate_detail

// Native byte order only. `bytes` must be 4-byte aligned (mapped files and
// heap buffers are); the layout points into them. One pass over the records
// (framing, names, per-kind rules, noting references and chains), then the
// checks that need them all: references in range, loops.
inline Result<BtfLayout> validate_btf(std::span<const uint8_t> bytes) {
  using namespace validate_detail;
  BTFD_TRY(BtfLayout l, check_header(bytes));
  BTFD_TRY(const Strings str, check_strings(l));
  RecordPass pass{l, str, {}, {}};
  Refs refs;
  // Each record is at least 12 bytes: reserving by that bound avoids regrowth.
  l.offsets.reserve(l.type_len / sizeof(struct btf_type) + 1);
  l.offsets.push_back(0);  // void
  std::vector<uint8_t> chains;  // for check_loops
  chains.reserve(l.offsets.capacity());
  chains.push_back(0);  // void ends every chain
  // Locals, not l's fields: l.offsets grows in the loop, so the compiler
  // would read l's fields from memory again at every record.
  const uint8_t* const types = l.types;
  const uint32_t type_len = l.type_len;
  for (uint32_t off = 0; off < type_len;) {
    const auto id = static_cast<uint32_t>(l.offsets.size());
    if (type_len - off < sizeof(struct btf_type)) return type_error(id, "record is truncated");
    const auto* t = reinterpret_cast<const struct btf_type*>(types + off);
    const size_t sz = btf_record_size(t);
    if (sz == 0) return type_error(id, "unknown kind " + std::to_string(btf_kind(t)));
    if (sz > type_len - off)
      return type_error(id, "record of " + std::to_string(sz) + " bytes (vlen " + std::to_string(btf_vlen(t)) +
                                ") runs past the type section");
    if (t->name_off >= str.terminated) BTFD_TRY_VOID(str.check(t->name_off, id, "name"));
    if (!check_record(pass, refs, t, id)) return std::move(pass.error);
    l.offsets.push_back(off);
    chains.push_back(chain_kinds(t));
    off += static_cast<uint32_t>(sz);
  }
  BTFD_TRY_VOID(check_references(pass, refs));
  BTFD_TRY_VOID(str.check_tail());
  BTFD_TRY_VOID(check_loops(l, chains));
  return l;
}

}  // namespace btfd::btf
