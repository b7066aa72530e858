// SPDX-License-Identifier: GPL-2.0-or-later
// Marking follows bpftool 7.1's btfgen rules, with the fixes that make libbpf
// compute the same results on our output as on the full BTF (bpftool's output
// does not, in the cases below; every fix keeps a superset of bpftool's marks):
//  1. every matching candidate is kept, not only the first: candidate pruning
//     then leaves the same candidate list on the output as on the full BTF;
//  2. for type-based relocations (target_type_id, type_exists, type_size,
//     type_matches) every *compared* candidate is kept with the structure those
//     checks look at (pointees included), so a pointer truncated to void by a
//     field relocation cannot make a failing check succeed;
//  3. a `long` INT is kept when the kernel's pointer size is not 8;
//  4. TYPE_TAG is followed like CONST and FWD is a leaf, instead of aborting.
#include "btf/marker.hpp"


namespace btfd::btf {
namespace {
constexpr uint8_t kMarked = 1, kFollowed = 2, kMatchDirect = 4, kMatchBehindPtr = 8;
}  // namespace

Marker::Marker(const BtfView* kernel) : btf_(kernel), state_(kernel->type_cnt(), 0) {}

bool Marker::member_marked(uint32_t id, uint32_t idx) const {
  auto it = members_.find(id);
  return it != members_.end() && idx < it->second.size() && it->second[idx];
}

void Marker::mark_member(uint32_t struct_id, uint32_t idx) {
  const struct btf_type* t = btf_->type_by_id(struct_id);
  if (!t) return;
  auto& v = members_[struct_id];
  if (v.empty()) v.resize(btf_vlen(t));
  if (idx < v.size()) v[idx] = true;
}

// Both walks run on an explicit stack with no depth limit: a chain as deep as
// the BTF is marked to its end (the kernel BTF is validated, so every chain
// ends; the state bits stop a walk at a type already walked the same way
// anyway). What is marked does not depend on the order types are walked in.
void Marker::mark(uint32_t id, bool follow_ptr) {
  work_.push_back({id, Walk::mark, follow_ptr});
  drain();
}

void Marker::mark_match(uint32_t id, bool behind_ptr) {
  work_.push_back({id, Walk::match, behind_ptr});
  drain();
}

void Marker::drain() {
  while (!work_.empty()) {
    const Item it = work_.back();
    work_.pop_back();
    if (it.walk == Walk::mark) step_mark(it.id, it.flag);
    else step_match(it.id, it.flag);
  }
}

void Marker::step_mark(uint32_t id, bool follow_ptr) {
  if (id == 0 || id >= state_.size()) return;
  uint8_t& st = state_[id];
  if ((st & kMarked) && (!follow_ptr || (st & kFollowed))) return;
  st |= kMarked | (follow_ptr ? kFollowed : 0);
  const struct btf_type* t = btf_->type_by_id(id);
  auto next = [&](uint32_t to) { work_.push_back({to, Walk::mark, follow_ptr}); };
  switch (btf_kind(t)) {
    case BTF_KIND_PTR:
      if (follow_ptr) next(t->type);
      break;
    case BTF_KIND_CONST:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_TYPE_TAG: next(t->type); break;
    case BTF_KIND_ARRAY:
      next(btf_array(t)->type);
      next(btf_array(t)->index_type);
      break;
    case BTF_KIND_FUNC_PROTO:
      next(t->type);
      for (int i = 0; i < btf_vlen(t); ++i) next(btf_params(t)[i].type);
      break;
    case BTF_KIND_FUNC:
    case BTF_KIND_VAR:
    case BTF_KIND_DATASEC:
    case BTF_KIND_DECL_TAG: st = 0; break;  // never part of a CO-RE answer
    default: break;                          // INT, FLOAT, ENUM*, STRUCT, UNION, FWD: leaves
  }
}

void Marker::step_match(uint32_t id, bool behind_ptr) {
  if (id == 0 || id >= state_.size()) return;
  uint8_t& st = state_[id];
  uint8_t bit = behind_ptr ? kMatchBehindPtr : kMatchDirect;
  if (st & bit) return;
  st |= kMarked | bit;
  const struct btf_type* t = btf_->type_by_id(id);
  auto next = [&](uint32_t to, bool behind) { work_.push_back({to, Walk::match, behind}); };
  switch (btf_kind(t)) {
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
      if (!behind_ptr) {
        for (int i = 0; i < btf_vlen(t); ++i) {
          mark_member(id, static_cast<uint32_t>(i));
          next(btf_members(t)[i].type, false);
        }
      }
      break;
    case BTF_KIND_PTR: next(t->type, true); break;
    case BTF_KIND_CONST:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_TYPE_TAG: next(t->type, behind_ptr); break;
    case BTF_KIND_ARRAY:
      next(btf_array(t)->type, false);
      work_.push_back({btf_array(t)->index_type, Walk::mark, false});
      break;
    case BTF_KIND_FUNC_PROTO:
      next(t->type, false);
      for (int i = 0; i < btf_vlen(t); ++i) next(btf_params(t)[i].type, false);
      break;
    case BTF_KIND_FUNC:
    case BTF_KIND_VAR:
    case BTF_KIND_DATASEC:
    case BTF_KIND_DECL_TAG: st = 0; break;
    default: break;
  }
}

Status Marker::mark_field_path(const Spec& targ) {
  mark(targ.root_type_id, false);
  uint32_t cur = targ.root_type_id;
  for (size_t i = 1; i < targ.raw.size(); ++i) {
    const struct btf_type* t = skip_mods_and_typedefs(btf_, cur, &cur);
    if (!t) return make_error(Errc::corrupt, "kernel BTF: broken type chain");
    if (btf_is_composite(t)) {
      uint32_t idx = targ.raw[i];
      if (idx >= btf_vlen(t)) return make_error(Errc::internal, "target spec out of range");
      mark_member(cur, idx);
      cur = btf_members(t)[idx].type;
      mark(cur, false);
    } else if (btf_is_array(t)) {
      cur = btf_array(t)->type;
    } else {
      return make_error(Errc::internal, "target spec goes through a non-composite type");
    }
  }
  return {};
}

void Marker::keep_pointer_size_hint() {
  if (btf_->pointer_size() == 8) return;
  bool any_ptr = false;
  for (uint32_t id = 1; id < state_.size() && !any_ptr; ++id)
    any_ptr = marked(id) && btf_is_ptr(btf_->type_by_id(id));
  if (any_ptr && btf_->pointer_size_type()) mark(btf_->pointer_size_type(), false);
}

}  // namespace btfd::btf
