// SPDX-License-Identifier: GPL-2.0-or-later
#include "btf/minimizer.hpp"

#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "btf/core_rules.hpp"
#include "btf/marker.hpp"
#include "btf/object_file.hpp"

namespace btfd::btf {
namespace {

std::string_view name_of(const struct btf* b, uint32_t off) {
  const char* s = btf__name_by_offset(b, off);
  return s ? s : "";
}

// libbpf's candidate search: same kind (ENUM ~ ENUM64), named, same essential name,
// ascending ids.
std::vector<uint32_t> find_candidates(const KernelBtf& k, const struct btf* local, uint32_t local_id) {
  const struct btf_type* lt = btf__type_by_id(local, local_id);
  auto ess = essential_name(name_of(local, lt->name_off));
  std::vector<uint32_t> out;
  for (uint32_t id : k.ids_with_essential_hash(ess)) {
    const struct btf_type* t = btf__type_by_id(k.btf(), id);
    if (!kinds_core_compat(t, lt)) continue;
    auto n = name_of(k.btf(), t->name_off);
    if (!n.empty() && essential_name(n) == ess) out.push_back(id);
  }
  return out;
}

struct RelocContext {
  const ObjectFile& obj;
  const CoreRelo& relo;
  std::string section;
  std::string where() const {
    return "\"" + obj.name + "\": section '" + section + "' relo #" + std::to_string(relo.index);
  }
};

Status process_relo(const KernelBtf& kernel, RelocContext& ctx,
                    std::unordered_map<uint32_t, std::vector<uint32_t>>& cand_cache, Marker& marker,
                    RelocReport& report) {
  const CoreRelo& r = ctx.relo;
  const struct btf* local = ctx.obj.btf.get();
  report.kind = relo_kind_name(r.kind);
  if (r.kind > BPF_CORE_TYPE_MATCHES)
    return make_error(Errc::invalid_argument, ctx.where() + ": unknown relocation kind " + std::to_string(r.kind));
  const struct btf_type* lt = btf__type_by_id(local, r.type_id);
  if (!lt || r.type_id == 0)
    return make_error(Errc::invalid_argument, ctx.where() + ": local type id " + std::to_string(r.type_id) + " is invalid");
  const char* access = btf__name_by_offset(local, r.access_str_off);
  if (!access) return make_error(Errc::invalid_argument, ctx.where() + ": access string offset is invalid");
  auto local_spec = parse_local_spec(local, r.type_id, access, r.kind);
  if (!local_spec) return std::move(local_spec).error().wrap(ctx.where());
  report.local_spec = format_spec(*local_spec);
  if (r.kind == BPF_CORE_TYPE_ID_LOCAL) {
    report.skipped = true;
    return {};
  }
  if (name_of(local, lt->name_off).empty())
    return make_error(Errc::invalid_argument, ctx.where() + ": relocation against an anonymous type");
  if (is_field_kind(r.kind)) {
    // libbpf computes the local side first; its errors are hard errors.
    auto lv = relo_value(*local_spec, r.kind);
    if (!lv) return std::move(lv).error().wrap(ctx.where());
  }
  auto it = cand_cache.find(r.type_id);
  if (it == cand_cache.end()) it = cand_cache.emplace(r.type_id, find_candidates(kernel, local, r.type_id)).first;
  std::vector<uint32_t>& cands = it->second;
  report.candidates = static_cast<uint32_t>(cands.size());
  std::vector<uint32_t> matched;
  Spec first_spec;
  RelocValue first_val;
  bool compared_marks = r.kind == BPF_CORE_TYPE_ID_TARGET || r.kind == BPF_CORE_TYPE_EXISTS ||
                        r.kind == BPF_CORE_TYPE_SIZE || r.kind == BPF_CORE_TYPE_MATCHES;
  for (uint32_t cand : cands) {
    Spec targ;
    int m = match_candidate(*local_spec, kernel.btf(), cand, &targ);
    if (m < 0)
      return make_error(m == -E2BIG ? Errc::too_large : Errc::invalid_argument,
                        ctx.where() + ": matching candidate [" + std::to_string(cand) + "] failed: " + std::strerror(-m));
    if (compared_marks) {
      if (r.kind == BPF_CORE_TYPE_MATCHES) marker.mark_match(cand, false);
      else marker.mark(cand, true);
    }
    if (m == 0) continue;
    auto val = relo_value(targ, r.kind);
    if (!val) return std::move(val).error().wrap(ctx.where());
    if (matched.empty()) {
      first_spec = targ;
      first_val = *val;
    } else if (targ.bit_offset != first_spec.bit_offset) {
      return make_error(Errc::ambiguous, ctx.where() + ": field offset ambiguity: " +
                                             std::to_string(first_spec.bit_offset / 8) + " != " +
                                             std::to_string(targ.bit_offset / 8) + " (candidates [" +
                                             std::to_string(matched.front()) + "] and [" + std::to_string(cand) + "])");
    } else if (val->poison != first_val.poison || val->value != first_val.value) {
      return make_error(Errc::ambiguous, ctx.where() + ": relocation decision ambiguity: " +
                                             std::to_string(first_val.value) + " != " + std::to_string(val->value) +
                                             " (candidates [" + std::to_string(matched.front()) + "] and [" +
                                             std::to_string(cand) + "])");
    }
    matched.push_back(cand);
    if (is_field_kind(r.kind)) BTFD_TRY_VOID(marker.mark_field_path(targ));
    else if (is_enum_kind(r.kind)) marker.mark(cand, false);
  }
  report.matches = static_cast<uint32_t>(matched.size());
  if (!matched.empty()) {
    report.target_spec = format_spec(first_spec);
    cands = std::move(matched);  // libbpf prunes the cached list to the matches
  }
  return {};
}

// Emits marked types in ascending source id order, members in source order,
// with references remapped (an unmarked reference becomes void).
Result<std::vector<uint8_t>> emit(const struct btf* src, const Marker& marker, uint32_t* types_out) {
  uint32_t n = btf__type_cnt(src);
  std::vector<uint32_t> remap(n, 0);
  uint32_t next = 1;
  for (uint32_t id = 1; id < n; ++id)
    if (marker.marked(id)) remap[id] = next++;
  BtfPtr out(btf__new_empty());
  if (!out) return make_error(Errc::internal, "cannot create an empty BTF");
  auto map = [&](uint32_t id) { return id < n ? remap[id] : 0; };
  for (uint32_t id = 1; id < n; ++id) {
    if (!marker.marked(id)) continue;
    const struct btf_type* t = btf__type_by_id(src, id);
    int nid;
    if (btf_is_composite(t)) {
      const char* name = btf__name_by_offset(src, t->name_off);
      nid = btf_is_struct(t) ? btf__add_struct(out.get(), name, t->size) : btf__add_union(out.get(), name, t->size);
      if (nid < 0) return make_error(Errc::internal, "cannot add a struct/union");
      for (int i = 0; i < btf_vlen(t); ++i) {
        if (!marker.member_marked(id, static_cast<uint32_t>(i))) continue;
        const struct btf_member* m = btf_members(t) + i;
        int err = btf__add_field(out.get(), btf__name_by_offset(src, m->name_off), static_cast<int>(map(m->type)),
                                 btf_member_bit_offset(t, static_cast<__u32>(i)),
                                 btf_member_bitfield_size(t, static_cast<__u32>(i)));
        if (err)
          return make_error(Errc::unsupported, "cannot emit member " + std::to_string(i) + " of type [" +
                                                   std::to_string(id) + "] (legacy bitfield encoding?)");
      }
    } else {
      nid = btf__add_type(out.get(), src, t);
      if (nid < 0) return make_error(Errc::internal, "cannot copy type [" + std::to_string(id) + "]");
      // libbpf hands out a const view; the type was just appended to our own BTF
      // and has no dedup index, so rewriting its references in place is safe.
      auto* nt = const_cast<struct btf_type*>(btf__type_by_id(out.get(), static_cast<__u32>(nid)));
      switch (btf_kind(nt)) {
        case BTF_KIND_PTR:
        case BTF_KIND_TYPEDEF:
        case BTF_KIND_CONST:
        case BTF_KIND_VOLATILE:
        case BTF_KIND_RESTRICT:
        case BTF_KIND_TYPE_TAG: nt->type = map(nt->type); break;
        case BTF_KIND_ARRAY:
          btf_array(nt)->type = map(btf_array(nt)->type);
          btf_array(nt)->index_type = map(btf_array(nt)->index_type);
          break;
        case BTF_KIND_FUNC_PROTO:
          nt->type = map(nt->type);
          for (int i = 0; i < btf_vlen(nt); ++i) btf_params(nt)[i].type = map(btf_params(nt)[i].type);
          break;
        default: break;
      }
    }
    if (static_cast<uint32_t>(nid) != remap[id]) return make_error(Errc::internal, "type id drift while emitting");
  }
  __u32 size = 0;
  const void* raw = btf__raw_data(out.get(), &size);
  if (!raw) return make_error(Errc::internal, "cannot serialize the minimized BTF");
  *types_out = next - 1;
  auto p = static_cast<const uint8_t*>(raw);
  return std::vector<uint8_t>(p, p + size);
}

}  // namespace

Result<MinimizeResult> minimize(const KernelBtf& kernel, std::span<const ObjectInput> objects) {
  Marker marker(kernel.btf());
  MinimizeResult result;
  for (const ObjectInput& in : objects) {
    BTFD_TRY(ObjectFile obj, parse_object(in.name, in.bytes));
    std::unordered_map<uint32_t, std::vector<uint32_t>> cand_cache;  // per object, as libbpf
    for (const CoreRelo& r : obj.relos) {
      const char* sec = btf__name_by_offset(obj.btf.get(), r.sec_name_off);
      RelocContext ctx{obj, r, sec ? sec : "?"};
      if (!sec) return make_error(Errc::invalid_argument, ctx.where() + ": section name offset is invalid");
      RelocReport rep;
      rep.object = obj.name;
      rep.section = ctx.section;
      rep.index = r.index;
      rep.insn = r.insn_off / 8;
      BTFD_TRY_VOID(process_relo(kernel, ctx, cand_cache, marker, rep));
      result.relocs.push_back(std::move(rep));
    }
  }
  marker.keep_pointer_size_hint();
  BTFD_TRY(result.btf, emit(kernel.btf(), marker, &result.types));
  return result;
}

nlohmann::json report_to_json(const std::vector<RelocReport>& relocs) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& r : relocs) {
    nlohmann::json j = {{"object", r.object}, {"section", r.section}, {"relo", r.index}, {"insn", r.insn},
                        {"kind", r.kind},     {"local", r.local_spec}, {"candidates", r.candidates},
                        {"matches", r.matches}};
    j["target"] = r.skipped ? nlohmann::json("local") : r.target_spec.empty() ? nlohmann::json() : nlohmann::json(r.target_spec);
    arr.push_back(std::move(j));
  }
  return arr;
}

}  // namespace btfd::btf
