// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// libbpf's candidate cache for one object: a local type's kernel candidates
// (same kind, ENUM ~ ENUM64, same essential name, ascending ids) are found on
// its first relocation and, after a relocation that matched some of them,
// pruned to those, as libbpf's bpf_core_calc_relo_insn prunes its cached list.
// Candidates depend only on a type's essential name and kind, so local types
// that share both (a hostile object may hold thousands) share one found list;
// every list is charged to the call's budget.

#include <cstdint>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "btf/budget.hpp"
#include "btf/kernel_btf.hpp"

namespace btfd::btf {

class CandidateCache {
 public:
  // `local` is the object's BTF; it and `kernel` outlive the cache.
  CandidateCache(const KernelBtf& kernel, const BtfView* local, CallBudget* budget);
  // local_id's current candidates; valid until the next call.
  Result<std::span<const uint32_t>> get(uint32_t local_id);
  // After a relocation on local_id matched `matched` (not empty).
  Status prune(uint32_t local_id, std::vector<uint32_t> matched);

 private:
  struct NameKind {
    std::string_view essential;  // in the local BTF's strings
    int kind;                    // ENUM64 counts as ENUM
    bool operator==(const NameKind&) const = default;
  };
  struct NameKindHash {
    size_t operator()(const NameKind& k) const;
  };
  struct Entry {
    const std::vector<uint32_t>* found = nullptr;  // in found_
    std::vector<uint32_t> pruned;
    bool is_pruned = false;
  };
  std::vector<uint32_t> find(const NameKind& key, const struct btf_type* local_type) const;

  const KernelBtf& kernel_;
  const BtfView* local_;
  std::unordered_map<NameKind, std::vector<uint32_t>, NameKindHash> found_;
  std::unordered_map<uint32_t, Entry> by_type_;
  Charge charge_;
};

}  // namespace btfd::btf
