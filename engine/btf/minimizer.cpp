// SPDX-License-Identifier: GPL-2.0-or-later
#include "btf/minimizer.hpp"

#include <cerrno>
#include <cstring>
#include <set>

#include "btf/btf_refs.hpp"
#include "btf/btf_writer.hpp"
#include "btf/candidate_cache.hpp"
#include "btf/core_rules.hpp"
#include "btf/marker.hpp"
#include "btf/object_file.hpp"
#include "btf/output_merge.hpp"
#include "btf/utf8.hpp"

namespace btfd::btf {
namespace {

std::string_view name_of(const BtfView* b, uint32_t off) { return b->name_or_empty(off); }

// Where a relocation is, for messages. Both names come from the client's
// object: not necessarily UTF-8, and the section name of any length.
// `label` is the object's as messages show it (ObjectFile::label), "" for none.
std::string where(std::string_view label, std::string_view section, uint32_t index) {
  return (label.empty() ? std::string() : std::string(label) + ": ") + "section '" + quoted_part(section) + "' relo #" +
         std::to_string(index);
}

struct RelocContext {
  const ObjectFile& obj;
  const CoreRelo& relo;
  std::string_view section;
  bool report_ambiguity = false;
  std::string where() const { return btf::where(obj.label, section, relo.index); }
};

// The names a relocation's report and messages quote: its root type and the
// members or enumerator on its access path.
Status check_names(const MinimizeBudget& limits, const Spec& spec) {
  for (const Accessor& a : spec.spec) {
    if (a.name)
      BTFD_TRY_VOID(check_name_length(limits, is_enum_kind(spec.kind) ? "enumerator name" : "member name",
                                      std::strlen(a.name)));
  }
  return {};
}

Status process_relo(const KernelBtf& kernel, RelocContext& ctx, CandidateCache& cand_cache, Marker& marker,
                    RelocTableBuilder& report, CallBudget& budget, RelocTable::Row& row) {
  const CoreRelo& r = ctx.relo;
  const BtfView* local = &ctx.obj.view;
  BTFD_TRY(row.kind, report.string(relo_kind_name(r.kind)));
  if (r.kind > BPF_CORE_TYPE_MATCHES)
    return make_error(Errc::invalid_argument, ctx.where() + ": unknown relocation kind " + std::to_string(r.kind));
  const struct btf_type* lt = local->type_by_id(r.type_id);
  if (!lt || r.type_id == 0)
    return make_error(Errc::invalid_argument, ctx.where() + ": local type id " + std::to_string(r.type_id) + " is invalid");
  if (auto st = check_name_length(budget.limits(), "type name", name_of(local, lt->name_off).size()); !st)
    return std::move(st).error().wrap(ctx.where());
  const char* access = local->name_by_offset(r.access_str_off);
  if (!access) return make_error(Errc::invalid_argument, ctx.where() + ": access string offset is invalid");
  auto local_spec = parse_local_spec(local, r.type_id, access, r.kind);
  if (!local_spec) return std::move(local_spec).error().wrap(ctx.where());
  if (auto st = check_names(budget.limits(), *local_spec); !st) return std::move(st).error().wrap(ctx.where());
  // The spec's text is scratch until stored: at most 64 accessors of bounded
  // names, so it is charged when it is kept, not while it is formatted.
  BTFD_TRY(row.local, report.string(format_spec(*local_spec)));
  BTFD_TRY(row.access, report.access(format_access(*local_spec)));
  if (r.kind == BPF_CORE_TYPE_ID_LOCAL) {
    row.target = RelocTable::kLocal;
    return {};
  }
  if (name_of(local, lt->name_off).empty())
    return make_error(Errc::invalid_argument, ctx.where() + ": relocation against an anonymous type");
  if (is_field_kind(r.kind)) {
    // libbpf computes the local side first; its errors are hard errors.
    auto lv = relo_value(*local_spec, r.kind);
    if (!lv) return std::move(lv).error().wrap(ctx.where());
  }
  auto found = cand_cache.get(r.type_id);
  if (!found) return std::move(found).error().wrap(ctx.where());
  std::span<const uint32_t> cands = *found;
  row.candidates = static_cast<uint32_t>(cands.size());
  std::vector<uint32_t> matched;
  Spec first_spec;
  RelocValue first_val;
  bool compared_marks = r.kind == BPF_CORE_TYPE_ID_TARGET || r.kind == BPF_CORE_TYPE_EXISTS ||
                        r.kind == BPF_CORE_TYPE_SIZE || r.kind == BPF_CORE_TYPE_MATCHES;
  for (uint32_t cand : cands) {
    if (budget.step()) return budget.stop_error();
    Spec targ;
    int m = match_candidate(*local_spec, kernel.btf(), cand, &targ, &budget);
    if (m < 0 && budget.stopped()) return budget.stop_error();
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
    std::string ambiguity;
    if (matched.empty()) {
      first_spec = targ;
      first_val = *val;
    } else if (targ.bit_offset != first_spec.bit_offset) {
      ambiguity = "field offset ambiguity: " + std::to_string(first_spec.bit_offset / 8) + " != " +
                  std::to_string(targ.bit_offset / 8) + " (candidates [" + std::to_string(matched.front()) + "] and [" +
                  std::to_string(cand) + "])";
    } else if (val->poison != first_val.poison || val->value != first_val.value) {
      ambiguity = "relocation decision ambiguity: " + std::to_string(first_val.value) + " != " +
                  std::to_string(val->value) + " (candidates [" + std::to_string(matched.front()) + "] and [" +
                  std::to_string(cand) + "])";
    }
    if (!ambiguity.empty()) {
      if (!ctx.report_ambiguity) return make_error(Errc::ambiguous, ctx.where() + ": " + ambiguity);
      // libbpf stops at the first disagreeing candidate too, and prunes nothing.
      BTFD_TRY(uint32_t amb, report.string(ambiguity));
      BTFD_TRY(uint32_t target, report.string(format_spec(first_spec)));
      row.ambiguity = static_cast<int32_t>(amb);
      row.target = static_cast<int32_t>(target);
      row.matches = static_cast<uint32_t>(matched.size() + 1);
      return {};
    }
    matched.push_back(cand);
    if (is_field_kind(r.kind)) BTFD_TRY_VOID(marker.mark_field_path(targ));
    else if (is_enum_kind(r.kind)) marker.mark(cand, false);
  }
  row.matches = static_cast<uint32_t>(matched.size());
  if (!matched.empty()) {
    BTFD_TRY(uint32_t target, report.string(format_spec(first_spec)));
    row.target = static_cast<int32_t>(target);
    BTFD_TRY_VOID(cand_cache.prune(r.type_id, std::move(matched)));  // libbpf prunes the cached list to the matches
  }
  return {};
}

// Emits marked types in ascending source id order, members in source order,
// with references remapped (an unmarked reference becomes void).
Result<std::vector<uint8_t>> emit(const BtfView* src, const Marker& marker, uint32_t* types_out, CallBudget& budget) {
  uint32_t n = src->type_cnt();
  std::vector<uint32_t> remap(n, 0);
  uint32_t next = 1;
  for (uint32_t id = 1; id < n; ++id)
    if (marker.marked(id)) remap[id] = next++;
  auto map = [&](uint32_t id) { return id < n ? remap[id] : 0; };
  BtfWriter out;
  // The view's validation guarantees in-range names; should one ever be out of
  // range anyway, the type fails to emit instead of crashing the daemon.
  // "" for offset 0 keeps libbpf's layout.
  uint32_t bad_name = 0;
  auto str = [&](uint32_t off) -> uint32_t {
    if (!off) return 0;
    const char* s = src->name_by_offset(off);
    if (!s) {
      bad_name = off;
      return 0;
    }
    return out.add_str(s);
  };
  std::vector<uint32_t> refs;  // ref_offsets of the record being emitted
  for (uint32_t id = 1; id < n; ++id) {
    if (!marker.marked(id)) continue;
    const struct btf_type* t = src->type_at(id);
    uint32_t nid = 0;
    if (btf_is_composite(t)) {
      std::vector<struct btf_member> kept;
      bool kflag = false;
      for (uint32_t i = 0; i < btf_vlen(t); ++i) {
        if (!marker.member_marked(id, i)) continue;
        const struct btf_member* m = btf_members(t) + i;
        uint32_t bit_off = btf_member_bit_offset(t, i), bit_size = btf_member_bitfield_size(t, i);
        // libbpf's btf__add_field rules: a bitfield needs a size that fits the
        // kflag encoding; members of a union sit at offset 0.
        bool bitfield = bit_size || bit_off % 8;
        if ((bitfield && (bit_size == 0 || bit_size > 255 || bit_off > 0xffffff)) || (btf_is_union(t) && bit_off))
          return make_error(Errc::unsupported, "cannot emit member " + std::to_string(i) + " of type [" +
                                                   std::to_string(id) + "] (legacy bitfield encoding?)");
        kflag |= bitfield;
        kept.push_back({0, map(m->type), bit_size << 24 | bit_off});
        kept.back().name_off = m->name_off;  // rewritten below, after the type's own name
      }
      struct btf_type h = *t;
      h.name_off = str(t->name_off);
      h.info = uint32_t{kflag} << 31 | uint32_t{btf_kind(t)} << 24 | static_cast<uint32_t>(kept.size());
      for (auto& m : kept) m.name_off = str(m.name_off);
      uint8_t* p = out.append(sizeof(h) + kept.size() * sizeof(struct btf_member), &nid);
      std::memcpy(p, &h, sizeof(h));
      if (!kept.empty()) std::memcpy(p + sizeof(h), kept.data(), kept.size() * sizeof(struct btf_member));
    } else {
      size_t size = btf_record_size(t);
      uint8_t* p = out.append(size, &nid);
      std::memcpy(p, t, size);
      auto* nt = reinterpret_cast<struct btf_type*>(p);
      nt->name_off = str(t->name_off);
      refs.clear();
      ref_offsets(nt, refs);
      for (uint32_t off : refs) {
        uint32_t ref;
        std::memcpy(&ref, p + off, sizeof ref);
        ref = map(ref);
        std::memcpy(p + off, &ref, sizeof ref);
      }
      switch (btf_kind(nt)) {  // the names inside the record
        case BTF_KIND_FUNC_PROTO:
          for (uint32_t i = 0; i < btf_vlen(nt); ++i) btf_params(nt)[i].name_off = str(btf_params(t)[i].name_off);
          break;
        case BTF_KIND_ENUM:
          for (uint32_t i = 0; i < btf_vlen(nt); ++i) btf_enum(nt)[i].name_off = str(btf_enum(t)[i].name_off);
          break;
        case BTF_KIND_ENUM64:
          for (uint32_t i = 0; i < btf_vlen(nt); ++i) btf_enum64(nt)[i].name_off = str(btf_enum64(t)[i].name_off);
          break;
        default: break;
      }
    }
    if (bad_name)
      return make_error(Errc::corrupt, "kernel BTF type [" + std::to_string(id) + "] names string offset " +
                                           std::to_string(bad_name) + ", outside its string section");
    if (nid != remap[id]) return make_error(Errc::internal, "type id drift while emitting");
  }
  std::vector<uint8_t> raw = out.finish();
  // A never-deduplicated kernel gives hundreds of identical copies of each
  // kept type; one of each gives libbpf the same results (output_merge.cpp).
  BTFD_TRY(raw, merge_identical_types(std::move(raw), types_out, &budget));
  // Cheap on outputs this small, and it proves the writer's bytes to libbpf.
  BtfPtr check(btf__new(raw.data(), static_cast<__u32>(raw.size())));
  if (!check) return make_error(Errc::internal, std::string("libbpf rejects the minimized BTF: ") + std::strerror(errno));
  return raw;
}

}  // namespace

Result<KernelBtf::NameFilter> lookup_names(std::span<const ObjectInput> objects, const MinimizeBudget& limits) {
  CallBudget budget(limits);
  std::set<std::string, std::less<>> names;
  Charge held(&budget);
  for (const ObjectInput& in : objects) {
    budget.set_object(in.name_in_messages ? in.name : "");
    BTFD_TRY_VOID(budget.checkpoint());
    BTFD_TRY(ObjectFile obj, parse_object(in.name, in.bytes, &budget, in.name_in_messages));
    for (const CoreRelo& r : obj.relos) {
      if (budget.step()) return budget.stop_error();
      // The names minimize() checks first, so that a one-shot run refuses an
      // object before it loads a kernel for it.
      if (const char* sec = obj.view.name_by_offset(r.sec_name_off)) {
        if (auto st = check_name_length(limits, "section name", std::strlen(sec)); !st)
          return std::move(st).error().wrap(where(obj.label, sec, r.index));
      }
      const struct btf_type* t = obj.view.type_by_id(r.type_id);
      if (!t || !t->name_off) continue;
      auto name = name_of(&obj.view, t->name_off);
      if (auto st = check_name_length(limits, "type name", name.size()); !st) {
        const char* sec = obj.view.name_by_offset(r.sec_name_off);
        return std::move(st).error().wrap(where(obj.label, sec ? sec : "?", r.index));
      }
      auto ess = essential_name(name);
      if (r.kind == BPF_CORE_TYPE_ID_LOCAL || ess.empty() || names.find(ess) != names.end()) continue;
      BTFD_TRY_VOID(held.add(ess.size() + 64));  // a set node
      names.emplace(ess);
    }
  }
  return KernelBtf::NameFilter(names.begin(), names.end());
}

namespace {

// *current: the index of the object being read, -1 outside the loop.
Result<MinimizeResult> run(const KernelBtf& kernel, std::span<const ObjectInput> objects,
                           const MinimizeOptions& options, CallBudget& budget, int* current) {
  BTFD_TRY_VOID(budget.checkpoint());
  Marker marker(kernel.btf());
  RelocTableBuilder report(budget);
  for (const ObjectInput& in : objects) {
    *current = static_cast<int>(&in - objects.data());
    budget.set_object(in.name_in_messages ? in.name : "");
    BTFD_TRY_VOID(budget.checkpoint());
    BTFD_TRY(ObjectFile obj, parse_object(in.name, in.bytes, &budget, in.name_in_messages));
    BTFD_TRY(uint32_t object_id, report.string(obj.name));
    CandidateCache cand_cache(kernel, &obj.view, &budget);  // per object, as libbpf
    uint32_t section_off = 0, section_id = 0;
    bool have_section = false;
    for (const CoreRelo& r : obj.relos) {
      BTFD_TRY_VOID(budget.checkpoint());
      const char* sec = obj.view.name_by_offset(r.sec_name_off);
      RelocContext ctx{obj, r, sec ? sec : "?", options.report_ambiguity};
      if (!sec) return make_error(Errc::invalid_argument, ctx.where() + ": section name offset is invalid");
      if (!have_section || r.sec_name_off != section_off) {  // records come in blocks per section
        if (auto st = check_name_length(budget.limits(), "section name", ctx.section.size()); !st)
          return std::move(st).error().wrap(ctx.where());
        BTFD_TRY(section_id, report.string(ctx.section));
        section_off = r.sec_name_off;
        have_section = true;
      }
      RelocTable::Row row;
      row.object = object_id;
      row.section = section_id;
      row.index = r.index;
      row.insn = r.insn_off / 8;
      BTFD_TRY_VOID(process_relo(kernel, ctx, cand_cache, marker, report, budget, row));
      BTFD_TRY_VOID(report.add(row));
    }
  }
  budget.set_object("");
  *current = -1;
  MinimizeResult result;
  if (options.emit) {
    // Marking, emission and the merge are bounded by the kernel, whatever the
    // objects: each type is walked at most once per way (marker.hpp).
    BTFD_TRY_VOID(budget.checkpoint());
    marker.keep_pointer_size_hint();
    BTFD_TRY(result.btf, emit(kernel.btf(), marker, &result.types, budget));
  }
  result.relocs = std::move(report).finish();
  return result;
}

}  // namespace

Result<MinimizeResult> minimize(const KernelBtf& kernel, std::span<const ObjectInput> objects,
                                const MinimizeOptions& options) {
  CallBudget budget(options.budget);
  int current = -1;
  auto result = run(kernel, objects, options, budget, &current);
  if (options.cost) *options.cost = {budget.peak_memory(), budget.report_bytes(), budget.relocations()};
  // A failure met while reading an object is about that object: the index
  // tells a caller which, without reading the message.
  if (!result && current >= 0) return std::move(result).error().about_object(current);
  return result;
}

nlohmann::json compact_report(const MinimizeResult& result) { return compact_report(result.relocs); }

}  // namespace btfd::btf
