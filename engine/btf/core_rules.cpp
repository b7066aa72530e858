// SPDX-License-Identifier: GPL-2.0-or-later
#include "btf/core_rules.hpp"

#include <cerrno>
#include <climits>
#include <cstring>

#include "btf/utf8.hpp"

namespace btfd::btf {
namespace {

constexpr int kMaxTypeDepth = 32;

std::string_view name_of(const BtfView* b, uint32_t off) { return b->name_or_empty(off); }

bool is_composite(const struct btf_type* t) { return btf_is_composite(t); }

// idx * size * 8 as libbpf's __u32 bit offset ends up: unsigned, so a huge
// index times a huge size wraps instead of overflowing (size is >= 0 here).
uint32_t scaled_bits(uint32_t idx, long size) {
  return static_cast<uint32_t>(uint64_t{idx} * static_cast<uint64_t>(size) * 8);
}

uint32_t member_bit_offset(const struct btf_type* t, int i) { return btf_member_bit_offset(t, static_cast<__u32>(i)); }
uint32_t member_bitfield_size(const struct btf_type* t, int i) { return btf_member_bitfield_size(t, static_cast<__u32>(i)); }

// The spec's "flexible array" rule: zero-length array as the last member.
bool is_flex_arr(const BtfView* btf, const Accessor* acc, const struct btf_array* arr) {
  if (!acc->name || arr->nelems != 0) return false;
  const struct btf_type* t = btf->type_by_id(acc->type_id);
  return acc->idx == static_cast<uint32_t>(btf_vlen(t) - 1);
}

int fields_are_compat(const BtfView* lb, uint32_t lid, const BtfView* tb, uint32_t tid) {
  for (int depth = 0; depth < kMaxTypeDepth; ++depth) {
    const struct btf_type* lt = skip_mods_and_typedefs(lb, lid, &lid);
    const struct btf_type* tt = skip_mods_and_typedefs(tb, tid, &tid);
    if (!lt || !tt) return -EINVAL;
    if (is_composite(lt) && is_composite(tt)) return 1;
    if (!kinds_core_compat(lt, tt)) return 0;
    switch (btf_kind(lt)) {
      case BTF_KIND_PTR:
      case BTF_KIND_FLOAT: return 1;
      case BTF_KIND_FWD:
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64: {
        auto ln = essential_name(name_of(lb, lt->name_off)), tn = essential_name(name_of(tb, tt->name_off));
        return ln.empty() || tn.empty() || ln == tn;
      }
      case BTF_KIND_INT: return btf_int_offset(lt) == 0 && btf_int_offset(tt) == 0;
      case BTF_KIND_ARRAY:
        lid = btf_array(lt)->type;
        tid = btf_array(tt)->type;
        continue;
      default: return 0;
    }
  }
  return -EINVAL;
}

// A budget's step in each recursion: a hostile local type can make them
// exponential (a struct of thousands of same-named members, nested), in
// libbpf as here; the call's deadline must still reach them.
int stop(CallBudget* budget) { return budget && budget->step() ? -ECANCELED : 0; }

int types_are_compat(const BtfView* lb, uint32_t lid, const BtfView* tb, uint32_t tid, int level, CallBudget* budget) {
  if (level <= 0) return -EINVAL;
  if (int e = stop(budget)) return e;
  const struct btf_type* lt = lb->type_by_id(lid);
  const struct btf_type* tt = tb->type_by_id(tid);
  if (!lt || !tt) return -EINVAL;
  if (!kinds_core_compat(lt, tt)) return 0;
  for (int depth = kMaxTypeDepth; depth >= 0; --depth) {
    lt = skip_mods_and_typedefs(lb, lid, &lid);
    tt = skip_mods_and_typedefs(tb, tid, &tid);
    if (!lt || !tt) return -EINVAL;
    if (!kinds_core_compat(lt, tt)) return 0;
    switch (btf_kind(lt)) {
      case BTF_KIND_UNKN:
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
      case BTF_KIND_ENUM:
      case BTF_KIND_FWD:
      case BTF_KIND_ENUM64: return 1;
      case BTF_KIND_INT: return btf_int_offset(lt) == 0 && btf_int_offset(tt) == 0;
      case BTF_KIND_PTR:
        lid = lt->type;
        tid = tt->type;
        continue;
      case BTF_KIND_ARRAY:
        lid = btf_array(lt)->type;
        tid = btf_array(tt)->type;
        continue;
      case BTF_KIND_FUNC_PROTO: {
        if (btf_vlen(lt) != btf_vlen(tt)) return 0;
        const struct btf_param* lp = btf_params(lt);
        const struct btf_param* tp = btf_params(tt);
        for (int i = 0; i < btf_vlen(lt); ++i) {
          uint32_t a = 0, b = 0;
          skip_mods_and_typedefs(lb, lp[i].type, &a);
          skip_mods_and_typedefs(tb, tp[i].type, &b);
          int r = types_are_compat(lb, a, tb, b, level - 1, budget);
          if (r <= 0) return r;
        }
        skip_mods_and_typedefs(lb, lt->type, &lid);
        skip_mods_and_typedefs(tb, tt->type, &tid);
        continue;
      }
      default: return 0;
    }
  }
  return -EINVAL;
}

int types_match(const BtfView* lb, uint32_t lid, const BtfView* tb, uint32_t tid, bool behind_ptr, int level,
                CallBudget* budget) {
  if (level <= 0) return -EINVAL;
  if (int e = stop(budget)) return e;
  const struct btf_type* lt = skip_mods_and_typedefs(lb, lid, &lid);
  const struct btf_type* tt = skip_mods_and_typedefs(tb, tid, &tid);
  if (!lt || !tt) return -EINVAL;
  auto ln = name_of(lb, lt->name_off), tn = name_of(tb, tt->name_off);
  if (tn.empty()) {
    if (!ln.empty()) return 0;
  } else if (essential_name(ln) != essential_name(tn)) {
    return 0;
  }
  int lk = btf_kind(lt), tk = btf_kind(tt);
  switch (lk) {
    case BTF_KIND_UNKN: return tk == BTF_KIND_UNKN;
    case BTF_KIND_FWD:
      if (behind_ptr && (tk == BTF_KIND_STRUCT || tk == BTF_KIND_UNION))
        return btf_kflag(lt) == (tk == BTF_KIND_UNION);
      return tk == BTF_KIND_FWD && btf_kflag(lt) == btf_kflag(tt);
    case BTF_KIND_ENUM:
    case BTF_KIND_ENUM64: {
      if (!btf_is_any_enum(tt) || lt->size != tt->size) return 0;
      for (int i = 0; i < btf_vlen(lt); ++i) {
        if (int e = stop(budget)) return e;  // local x target enumerators, 65535 each at most
        uint32_t loff = lk == BTF_KIND_ENUM ? btf_enum(lt)[i].name_off : btf_enum64(lt)[i].name_off;
        auto le = essential_name(name_of(lb, loff));
        bool found = false;
        for (int j = 0; j < btf_vlen(tt) && !found; ++j) {
          uint32_t toff = tk == BTF_KIND_ENUM ? btf_enum(tt)[j].name_off : btf_enum64(tt)[j].name_off;
          found = essential_name(name_of(tb, toff)) == le;
        }
        if (!found) return 0;
      }
      return 1;
    }
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION: {
      if (behind_ptr) {
        if (tk == lk) return 1;
        return tk == BTF_KIND_FWD && btf_kflag(tt) == (lk == BTF_KIND_UNION);
      }
      if (tk != lk || btf_vlen(lt) > btf_vlen(tt)) return 0;
      const struct btf_member* lm = btf_members(lt);
      const struct btf_member* tm = btf_members(tt);
      for (int i = 0; i < btf_vlen(lt); ++i) {
        if (int e = stop(budget)) return e;
        auto lname = name_of(lb, lm[i].name_off);
        bool matched = false;
        for (int j = 0; j < btf_vlen(tt) && !matched; ++j) {
          if (name_of(tb, tm[j].name_off) != lname) continue;
          int r = types_match(lb, lm[i].type, tb, tm[j].type, behind_ptr, level - 1, budget);
          if (r < 0) return r;
          matched = r > 0;
        }
        if (!matched) return 0;
      }
      return 1;
    }
    case BTF_KIND_INT:
      if (tk != BTF_KIND_INT || lt->size != tt->size) return 0;
      return (btf_int_encoding(lt) & BTF_INT_SIGNED) == (btf_int_encoding(tt) & BTF_INT_SIGNED);
    case BTF_KIND_PTR:
      if (tk != BTF_KIND_PTR) return 0;
      return types_match(lb, lt->type, tb, tt->type, true, level - 1, budget);
    case BTF_KIND_ARRAY:
      if (tk != BTF_KIND_ARRAY || btf_array(lt)->nelems != btf_array(tt)->nelems) return 0;
      return types_match(lb, btf_array(lt)->type, tb, btf_array(tt)->type, behind_ptr, level - 1, budget);
    case BTF_KIND_FUNC_PROTO: {
      if (tk != BTF_KIND_FUNC_PROTO || btf_vlen(lt) != btf_vlen(tt)) return 0;
      for (int i = 0; i < btf_vlen(lt); ++i) {
        int r = types_match(lb, btf_params(lt)[i].type, tb, btf_params(tt)[i].type, behind_ptr, level - 1, budget);
        if (r <= 0) return r;
      }
      return types_match(lb, lt->type, tb, tt->type, behind_ptr, level - 1, budget);
    }
    default: return 0;
  }
}

int match_member(const BtfView* lb, const Accessor& local_acc, const BtfView* tb, uint32_t tid, Spec* spec,
                 uint32_t* next_tid) {
  const struct btf_type* local_type = lb->type_by_id(local_acc.type_id);
  const struct btf_member* local_member = btf_members(local_type) + local_acc.idx;
  auto local_name = name_of(lb, local_member->name_off);
  const struct btf_type* tt = skip_mods_and_typedefs(tb, tid, &tid);
  if (!tt) return -EINVAL;
  if (!is_composite(tt)) return 0;
  const struct btf_member* m = btf_members(tt);
  for (int i = 0; i < btf_vlen(tt); ++i, ++m) {
    uint32_t bit_off = member_bit_offset(tt, i);
    if (spec->raw.size() == kMaxSpecLen) return -E2BIG;
    spec->bit_offset += bit_off;
    spec->raw.push_back(static_cast<uint32_t>(i));
    auto tname = name_of(tb, m->name_off);
    if (tname.empty()) {
      int found = match_member(lb, local_acc, tb, m->type, spec, next_tid);
      if (found) return found;
    } else if (tname == local_name) {
      spec->spec.push_back({tid, static_cast<uint32_t>(i), tb->name_by_offset(m->name_off)});
      *next_tid = m->type;
      int found = fields_are_compat(lb, local_member->type, tb, m->type);
      if (!found) spec->spec.pop_back();
      return found;
    }
    spec->bit_offset -= bit_off;
    spec->raw.pop_back();
  }
  return 0;
}

}  // namespace

const char* relo_kind_name(uint32_t kind) {
  switch (kind) {
    case BPF_CORE_FIELD_BYTE_OFFSET: return "byte_off";
    case BPF_CORE_FIELD_BYTE_SIZE: return "byte_sz";
    case BPF_CORE_FIELD_EXISTS: return "field_exists";
    case BPF_CORE_FIELD_SIGNED: return "signed";
    case BPF_CORE_FIELD_LSHIFT_U64: return "lshift_u64";
    case BPF_CORE_FIELD_RSHIFT_U64: return "rshift_u64";
    case BPF_CORE_TYPE_ID_LOCAL: return "local_type_id";
    case BPF_CORE_TYPE_ID_TARGET: return "target_type_id";
    case BPF_CORE_TYPE_EXISTS: return "type_exists";
    case BPF_CORE_TYPE_MATCHES: return "type_matches";
    case BPF_CORE_TYPE_SIZE: return "type_size";
    case BPF_CORE_ENUMVAL_EXISTS: return "enumval_exists";
    case BPF_CORE_ENUMVAL_VALUE: return "enumval_value";
    default: return "unknown";
  }
}

bool is_field_kind(uint32_t k) { return k <= BPF_CORE_FIELD_RSHIFT_U64; }
bool is_type_kind(uint32_t k) {
  return k == BPF_CORE_TYPE_ID_LOCAL || k == BPF_CORE_TYPE_ID_TARGET || k == BPF_CORE_TYPE_EXISTS ||
         k == BPF_CORE_TYPE_SIZE || k == BPF_CORE_TYPE_MATCHES;
}
bool is_enum_kind(uint32_t k) { return k == BPF_CORE_ENUMVAL_EXISTS || k == BPF_CORE_ENUMVAL_VALUE; }

const struct btf_type* skip_mods_and_typedefs(const BtfView* btf, uint32_t id, uint32_t* res_id) {
  const struct btf_type* t = btf->type_by_id(id);
  if (res_id) *res_id = id;
  for (int guard = 0; t && guard < 1024; ++guard) {
    int k = btf_kind(t);
    if (k != BTF_KIND_CONST && k != BTF_KIND_VOLATILE && k != BTF_KIND_RESTRICT && k != BTF_KIND_TYPE_TAG &&
        k != BTF_KIND_TYPEDEF)
      return t;
    id = t->type;
    if (res_id) *res_id = id;
    t = btf->type_by_id(id);
  }
  return t && btf_kind(t) != BTF_KIND_TYPEDEF ? t : nullptr;
}

size_t essential_name_len(std::string_view name) {
  // Last "X___Y": a non-underscore, exactly three underscores, a non-underscore.
  for (size_t i = name.size(); i-- > 4;) {
    if (name[i] != '_' && name[i - 1] == '_' && name[i - 2] == '_' && name[i - 3] == '_' && name[i - 4] != '_')
      return i - 3;
  }
  return name.size();
}

bool kinds_core_compat(const struct btf_type* a, const struct btf_type* b) {
  return btf_kind(a) == btf_kind(b) || (btf_is_any_enum(a) && btf_is_any_enum(b));
}

Result<Spec> parse_local_spec(const BtfView* local, uint32_t type_id, const char* access, uint32_t kind) {
  // The access string is the object's bytes, of any length (libbpf reads
  // "000...0" as 0): shown in part, as valid UTF-8.
  auto err = [&](Errc c, const std::string& m) {
    return make_error(c, "access string \"" + quoted_part(access ? access : "") + "\": " + m);
  };
  if (!access || !*access || *access == ':') return err(Errc::invalid_argument, "empty or malformed");
  Spec s;
  s.btf = local;
  s.root_type_id = type_id;
  s.kind = kind;
  for (const char* p = access; *p;) {
    if (*p < '0' || *p > '9') return err(Errc::invalid_argument, "expected a decimal index");
    // libbpf reads each index with sscanf("%d") and refuses negatives: anything
    // past INT_MAX is out of range, however many digits it has.
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9') {
      v = v * 10 + static_cast<uint64_t>(*p++ - '0');
      if (v > INT_MAX) return err(Errc::invalid_argument, "index out of range (more than " + std::to_string(INT_MAX) + ")");
    }
    if (*p == ':') {
      ++p;
      if (!*p) return err(Errc::invalid_argument, "trailing ':'");
    } else if (*p) {
      return err(Errc::invalid_argument, "expected ':'");
    }
    if (s.raw.size() == kMaxSpecLen) return err(Errc::too_large, "more than 64 accessors");
    s.raw.push_back(static_cast<uint32_t>(v));
  }
  const struct btf_type* root = local->type_by_id(type_id);
  if (!root) return err(Errc::invalid_argument, "root type id " + std::to_string(type_id) + " does not exist");
  if (is_type_kind(kind)) {
    if (s.raw.size() != 1 || s.raw[0] != 0) return err(Errc::invalid_argument, "type relocations need \"0\"");
    return s;
  }
  uint32_t id = 0;
  const struct btf_type* t = skip_mods_and_typedefs(local, type_id, &id);
  if (!t) return err(Errc::invalid_argument, "bad root type");
  if (is_enum_kind(kind)) {
    if (!btf_is_any_enum(t) || s.raw.size() > 1 || s.raw[0] >= btf_vlen(t))
      return err(Errc::invalid_argument, "not a valid enumerator");
    uint32_t name_off = btf_is_enum(t) ? btf_enum(t)[s.raw[0]].name_off : btf_enum64(t)[s.raw[0]].name_off;
    s.spec.push_back({id, s.raw[0], local->name_by_offset(name_off)});
    return s;
  }
  if (!is_field_kind(kind)) return err(Errc::invalid_argument, "unknown relocation kind " + std::to_string(kind));
  long sz = local->resolve_size(id);
  if (sz < 0) return err(Errc::invalid_argument, "cannot size the root type");
  s.spec.push_back({id, s.raw[0], nullptr});
  s.bit_offset = scaled_bits(s.raw[0], sz);
  for (size_t i = 1; i < s.raw.size(); ++i) {
    t = skip_mods_and_typedefs(local, id, &id);
    if (!t) return err(Errc::invalid_argument, "bad type on the access path");
    uint32_t idx = s.raw[i];
    if (is_composite(t)) {
      if (idx >= btf_vlen(t)) return err(Errc::invalid_argument, "member index out of range");
      const struct btf_member* m = btf_members(t) + idx;
      s.bit_offset += member_bit_offset(t, static_cast<int>(idx));
      if (m->name_off) {
        const char* name = local->name_by_offset(m->name_off);
        if (!name) return err(Errc::invalid_argument, "member name offset is invalid");
        s.spec.push_back({id, idx, name});
      }
      id = m->type;
    } else if (btf_is_array(t)) {
      const struct btf_array* a = btf_array(t);
      bool flex = !s.spec.empty() && is_flex_arr(local, &s.spec.back(), a);
      if (!skip_mods_and_typedefs(local, a->type, &id)) return err(Errc::invalid_argument, "bad array element");
      if (!flex && idx >= a->nelems) return err(Errc::invalid_argument, "array index out of range");
      s.spec.push_back({id, idx, nullptr});
      long esz = local->resolve_size(id);
      if (esz < 0) return err(Errc::invalid_argument, "cannot size an array element");
      s.bit_offset += scaled_bits(idx, esz);
    } else {
      return err(Errc::invalid_argument, "path goes through a type that is neither a struct, union nor array");
    }
  }
  return s;
}

int match_candidate(const Spec& local, const BtfView* tb, uint32_t targ_id, Spec* targ, CallBudget* budget) {
  *targ = Spec{};
  targ->btf = tb;
  targ->root_type_id = targ_id;
  targ->kind = local.kind;
  if (is_type_kind(local.kind)) {
    if (local.kind == BPF_CORE_TYPE_MATCHES)
      return types_match(local.btf, local.root_type_id, tb, targ_id, false, kMaxTypeDepth, budget);
    return types_are_compat(local.btf, local.root_type_id, tb, targ_id, kMaxTypeDepth, budget);
  }
  if (is_enum_kind(local.kind)) {
    const struct btf_type* t = skip_mods_and_typedefs(tb, targ_id, &targ_id);
    if (!t || !btf_is_any_enum(t)) return 0;
    auto want = essential_name(local.spec[0].name ? local.spec[0].name : "");
    for (int i = 0; i < btf_vlen(t); ++i) {
      uint32_t off = btf_is_enum(t) ? btf_enum(t)[i].name_off : btf_enum64(t)[i].name_off;
      if (essential_name(name_of(tb, off)) == want) {
        targ->spec.push_back({targ_id, static_cast<uint32_t>(i), tb->name_by_offset(off)});
        targ->raw.push_back(static_cast<uint32_t>(i));
        return 1;
      }
    }
    return 0;
  }
  for (size_t i = 0; i < local.spec.size(); ++i) {
    const Accessor& la = local.spec[i];
    const struct btf_type* tt = skip_mods_and_typedefs(tb, targ_id, &targ_id);
    if (!tt) return -EINVAL;
    if (la.name) {
      int m = match_member(local.btf, la, tb, targ_id, targ, &targ_id);
      if (m <= 0) return m;
      continue;
    }
    if (i > 0) {
      if (!btf_is_array(tt)) return 0;
      const struct btf_array* a = btf_array(tt);
      bool flex = !targ->spec.empty() && is_flex_arr(tb, &targ->spec.back(), a);
      if (!flex && la.idx >= a->nelems) return 0;
      if (!skip_mods_and_typedefs(tb, a->type, &targ_id)) return -EINVAL;
    }
    if (targ->raw.size() == kMaxSpecLen) return -E2BIG;
    targ->spec.push_back({targ_id, la.idx, nullptr});
    targ->raw.push_back(la.idx);
    long sz = tb->resolve_size(targ_id);
    if (sz < 0) return static_cast<int>(sz);
    targ->bit_offset += scaled_bits(la.idx, sz);
  }
  return 1;
}

Result<RelocValue> relo_value(const Spec& s, uint32_t kind) {
  RelocValue v;
  const BtfView* b = s.btf;
  if (is_type_kind(kind)) {
    if (kind == BPF_CORE_TYPE_ID_TARGET || kind == BPF_CORE_TYPE_ID_LOCAL) v.value = s.root_type_id;
    else if (kind == BPF_CORE_TYPE_SIZE) {
      long sz = b->resolve_size(s.root_type_id);
      if (sz < 0) return make_error(Errc::invalid_argument, "cannot size the relocated type");
      v.value = static_cast<uint64_t>(sz);
    } else {
      v.value = 1;
    }
    return v;
  }
  if (is_enum_kind(kind)) {
    if (kind == BPF_CORE_ENUMVAL_EXISTS) {
      v.value = 1;
    } else {
      const struct btf_type* t = b->type_by_id(s.spec[0].type_id);
      uint32_t i = s.spec[0].idx;
      v.value = btf_is_enum(t) ? static_cast<uint64_t>(static_cast<int64_t>(btf_enum(t)[i].val))
                               : btf_enum64_value(btf_enum64(t) + i);
    }
    return v;
  }
  if (kind == BPF_CORE_FIELD_EXISTS) {
    v.value = 1;
    return v;
  }
  const Accessor& acc = s.spec.back();
  uint32_t field_type_id = 0;
  uint32_t bits = 0;
  bool named = acc.name != nullptr;
  uint64_t size = 0, off = 0;
  uint64_t bit_off = static_cast<uint64_t>(s.bit_offset);
  const struct btf_type* mt = nullptr;
  if (!named) {
    if (kind == BPF_CORE_FIELD_SIGNED || kind == BPF_CORE_FIELD_LSHIFT_U64 || kind == BPF_CORE_FIELD_RSHIFT_U64)
      return make_error(Errc::invalid_argument, std::string(relo_kind_name(kind)) + " on an array element or root");
    long sz = b->resolve_size(acc.type_id);
    if (sz < 0) return make_error(Errc::invalid_argument, "cannot size the field");
    size = static_cast<uint64_t>(sz);
    off = bit_off / 8;
    mt = b->type_by_id(acc.type_id);
  } else {
    const struct btf_type* parent = b->type_by_id(acc.type_id);
    const struct btf_member* m = btf_members(parent) + acc.idx;
    mt = skip_mods_and_typedefs(b, m->type, &field_type_id);
    bits = member_bitfield_size(parent, static_cast<int>(acc.idx));
    if (!bits) {
      long sz = b->resolve_size(field_type_id);
      if (sz < 0) return make_error(Errc::invalid_argument, "cannot size the field");
      size = static_cast<uint64_t>(sz);
      off = bit_off / 8;
    } else {
      if (!mt) return make_error(Errc::invalid_argument, "bad bitfield type");
      size = mt->size;
      if (size == 0) return make_error(Errc::invalid_argument, "bitfield of a zero-sized type");
      off = bit_off / 8 / size * size;
      while (bit_off + bits - off * 8 > size * 8) {
        if (size >= 8) return make_error(Errc::too_large, "bitfield does not fit in 8 bytes");
        size *= 2;
        off = bit_off / 8 / size * size;
      }
    }
  }
  switch (kind) {
    case BPF_CORE_FIELD_BYTE_OFFSET: v.value = off; break;
    case BPF_CORE_FIELD_BYTE_SIZE: v.value = size; break;
    case BPF_CORE_FIELD_SIGNED:
      // libbpf 1.1 reads an INT encoding even for non-INT types; later versions
      // give 0 there, and so do we.
      v.value = mt && ((btf_is_any_enum(mt) && btf_kflag(mt)) ||
                       (btf_is_int(mt) && (btf_int_encoding(mt) & BTF_INT_SIGNED)));
      break;
    case BPF_CORE_FIELD_LSHIFT_U64: v.value = 64 - (bit_off + (bits ? bits : size * 8) - off * 8); break;
    case BPF_CORE_FIELD_RSHIFT_U64: v.value = 64 - (bits ? bits : size * 8); break;
    default: return make_error(Errc::invalid_argument, "unknown relocation kind");
  }
  return v;
}

std::string format_access(const Spec& s) {
  const struct btf_type* root = s.btf->type_by_id(s.root_type_id);
  static const char* const kinds[] = {"void", "int", "ptr", "array", "struct", "union", "enum", "fwd", "typedef",
                                      "volatile", "const", "restrict", "func", "func_proto", "var", "datasec",
                                      "float", "decl_tag", "type_tag", "enum64"};
  int k = root ? btf_kind(root) : 0;
  std::string out = std::string(k < 20 ? kinds[k] : "?") + " ";
  auto n = root ? name_of(s.btf, root->name_off) : std::string_view();
  out += n.empty() ? "<anon>" : std::string(n);
  if (is_enum_kind(s.kind) && !s.spec.empty()) return out + "::" + (s.spec[0].name ? s.spec[0].name : "?");
  if (!is_field_kind(s.kind)) return out;
  for (size_t i = 1; i < s.spec.size(); ++i) {
    if (s.spec[i].name) out += std::string(".") + s.spec[i].name;
    else out += "[" + std::to_string(s.spec[i].idx) + "]";
  }
  return out;
}

std::string format_spec(const Spec& s) {
  std::string out = "[" + std::to_string(s.root_type_id) + "] " + format_access(s);
  if (!is_field_kind(s.kind)) return out;
  out += " (";
  for (size_t i = 0; i < s.raw.size(); ++i) out += (i ? ":" : "") + std::to_string(s.raw[i]);
  out += " @ offset " + std::to_string(s.bit_offset / 8);
  if (s.bit_offset % 8) out += "." + std::to_string(s.bit_offset % 8);
  return out + ")";
}

}  // namespace btfd::btf
