// SPDX-License-Identifier: GPL-2.0-or-later
#include "btf/candidate_cache.hpp"

#include <functional>

#include "btf/core_rules.hpp"

namespace btfd::btf {
namespace {

// A hash map node and its bucket, besides what it holds.
constexpr uint64_t kNodeOverhead = 64;

std::string_view name_of(const BtfView* b, uint32_t off) { return b->name_or_empty(off); }

}  // namespace

size_t CandidateCache::NameKindHash::operator()(const NameKind& k) const {
  return std::hash<std::string_view>()(k.essential) * 31 + static_cast<size_t>(k.kind);
}

CandidateCache::CandidateCache(const KernelBtf& kernel, const BtfView* local, CallBudget* budget)
    : kernel_(kernel), local_(local), charge_(budget) {}

std::vector<uint32_t> CandidateCache::find(const NameKind& key, const struct btf_type* lt) const {
  std::vector<uint32_t> out;
  for (uint32_t id : kernel_.ids_with_essential_hash(key.essential)) {
    const struct btf_type* t = kernel_.btf()->type_by_id(id);
    if (!t || !kinds_core_compat(t, lt)) continue;
    auto n = name_of(kernel_.btf(), t->name_off);
    if (!n.empty() && essential_name(n) == key.essential) out.push_back(id);
  }
  out.shrink_to_fit();
  return out;
}

Result<std::span<const uint32_t>> CandidateCache::get(uint32_t local_id) {
  auto it = by_type_.find(local_id);
  if (it == by_type_.end()) {
    const struct btf_type* lt = local_->type_by_id(local_id);
    if (!lt) return make_error(Errc::invalid_argument, "local type id " + std::to_string(local_id) + " is invalid");
    int kind = btf_kind(lt) == BTF_KIND_ENUM64 ? int{BTF_KIND_ENUM} : btf_kind(lt);
    NameKind key{essential_name(name_of(local_, lt->name_off)), kind};
    auto f = found_.find(key);
    if (f == found_.end()) {
      // The kernel's list is bounded by the kernel; it is charged before it is kept.
      std::vector<uint32_t> ids = find(key, lt);
      BTFD_TRY_VOID(charge_.add(kNodeOverhead + ids.capacity() * sizeof(uint32_t)));
      f = found_.emplace(key, std::move(ids)).first;
    }
    BTFD_TRY_VOID(charge_.add(kNodeOverhead));
    it = by_type_.emplace(local_id, Entry{&f->second, {}, false}).first;
  }
  const Entry& e = it->second;
  return e.is_pruned ? std::span<const uint32_t>(e.pruned) : std::span<const uint32_t>(*e.found);
}

Status CandidateCache::prune(uint32_t local_id, std::vector<uint32_t> matched) {
  auto it = by_type_.find(local_id);
  if (it == by_type_.end()) return make_error(Errc::internal, "pruning candidates never found");
  Entry& e = it->second;
  // All of them matched: the shared list stays as it is.
  if (!e.is_pruned && matched.size() == e.found->size()) return {};
  matched.shrink_to_fit();
  BTFD_TRY_VOID(charge_.add(matched.capacity() * sizeof(uint32_t)));
  charge_.sub(e.pruned.capacity() * sizeof(uint32_t));
  e.pruned = std::move(matched);
  e.is_pruned = true;
  return {};
}

}  // namespace btfd::btf
