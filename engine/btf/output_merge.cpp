// SPDX-License-Identifier: GPL-2.0-or-later
// Why merging identical output types keeps libbpf's results: libbpf's CO-RE
// matching looks at kinds, names, sizes, offsets and encodings, following
// references, and never at type ids. Two types identical in the output (same
// records, references identical in turn) therefore give identical results for
// every relocation, so a candidate list of N identical copies and a list of one
// give the same values, and no ambiguity either: identical copies never
// disagree. Types whose results differ on the full BTF differ in what the
// marker kept (marker.cpp rule 1 keeps every matching candidate's spec; type-
// based kinds keep every compared candidate's structure, rule 2), so they are
// never merged. Only target type ids (TYPE_ID_TARGET) change, as they already do
// when unmarked types are dropped; where the full BTF holds identical copies,
// libbpf finds TYPE_ID_TARGET ambiguous there (the copies' ids differ) and
// resolves it on the output, which holds one copy.
//
// libbpf's btf__dedup is not used: its FWD resolution changes structure (a PTR
// to FWD foo may become a PTR to STRUCT foo), which can change type-matching
// results. Here nothing changes but duplicate records disappearing.
//
// Sameness is bisimilarity in the emitted graph, computed by Moore-style
// partition refinement: start from classes of equal records with references
// zeroed, then split classes by the classes their references point to, until
// the number of classes stops growing. Each round is one hashing pass over
// types and references.
#include "btf/output_merge.hpp"

#include <linux/btf.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <unordered_map>

#include "btf/btf_refs.hpp"
#include "btf/btf_validate.hpp"

namespace btfd::btf {
namespace {

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

void append_u32(std::string& s, uint32_t v) { s.append(reinterpret_cast<const char*>(&v), sizeof(v)); }

// The records and their references, flattened.
struct Graph {
  const uint8_t* types = nullptr;
  std::vector<uint32_t> offset;     // offset[id]: the record's start in the type section
  std::vector<uint32_t> size;       // size[id]: its length
  std::vector<uint32_t> ref_begin;  // references of id: [ref_begin[id], ref_begin[id + 1])
  std::vector<uint32_t> ref_at;     // byte offset of the reference within its record
  std::vector<uint32_t> ref_to;     // the id it names
};

Graph build_graph(const BtfLayout& layout) {
  const auto n = static_cast<uint32_t>(layout.offsets.size());
  Graph g;
  g.types = layout.types;
  g.offset = layout.offsets;
  g.size.assign(n, 0);
  g.ref_begin.assign(n + 1, 0);
  for (uint32_t id = 1; id < n; ++id) {
    const uint8_t* rec = layout.types + layout.offsets[id];
    const auto* t = reinterpret_cast<const struct btf_type*>(rec);
    g.size[id] = static_cast<uint32_t>(btf_record_size(t));
    size_t first = g.ref_at.size();
    ref_offsets(t, g.ref_at);
    for (size_t r = first; r < g.ref_at.size(); ++r) g.ref_to.push_back(load_u32(rec + g.ref_at[r]));
    g.ref_begin[id + 1] = static_cast<uint32_t>(g.ref_at.size());
  }
  return g;
}

// Classes of equal records with references zeroed (void is class 0, types
// 1..count); returns the count.
uint32_t initial_classes(const Graph& g, std::vector<uint32_t>& cls) {
  const auto n = static_cast<uint32_t>(g.offset.size());
  std::unordered_map<std::string, uint32_t> by_record;
  by_record.reserve(n);
  std::string key;
  for (uint32_t id = 1; id < n; ++id) {
    key.assign(reinterpret_cast<const char*>(g.types + g.offset[id]), g.size[id]);
    for (uint32_t r = g.ref_begin[id]; r < g.ref_begin[id + 1]; ++r) std::memset(key.data() + g.ref_at[r], 0, 4);
    auto next = static_cast<uint32_t>(by_record.size() + 1);
    cls[id] = by_record.try_emplace(key, next).first->second;
  }
  return static_cast<uint32_t>(by_record.size());
}

// One refinement round: a type's new class is its class with the classes of
// what it refers to. Returns the new count.
uint32_t refine(const Graph& g, const std::vector<uint32_t>& cls, std::vector<uint32_t>& out) {
  const auto n = static_cast<uint32_t>(g.offset.size());
  std::unordered_map<std::string, uint32_t> by_key;
  by_key.reserve(n);
  std::string key;
  for (uint32_t id = 1; id < n; ++id) {
    key.clear();
    append_u32(key, cls[id]);
    for (uint32_t r = g.ref_begin[id]; r < g.ref_begin[id + 1]; ++r) append_u32(key, cls[g.ref_to[r]]);
    auto next = static_cast<uint32_t>(by_key.size() + 1);
    out[id] = by_key.try_emplace(key, next).first->second;
  }
  return static_cast<uint32_t>(by_key.size());
}

}  // namespace

Result<std::vector<uint8_t>> merge_identical_types(std::vector<uint8_t> raw, uint32_t* types, CallBudget* budget) {
  BTFD_TRY(BtfLayout layout, validate_btf(raw));
  const auto n = static_cast<uint32_t>(layout.offsets.size());
  *types = n - 1;
  Graph g = build_graph(layout);
  std::vector<uint32_t> cls(n, 0), next(n, 0);
  uint32_t classes = initial_classes(g, cls);
  // Classes only ever split; the count stops growing exactly when the
  // partition is stable (each round's key includes the old class).
  while (classes < n - 1) {
    if (budget) BTFD_TRY_VOID(budget->checkpoint());
    uint32_t count = refine(g, cls, next);
    cls.swap(next);
    if (count == classes) break;
    classes = count;
  }
  if (classes == n - 1) return raw;

  // The lowest id of each class stands for it; ids follow in ascending order.
  std::vector<uint32_t> class_new_id(classes + 1, 0), new_id(n, 0);
  std::vector<uint32_t> keep;
  keep.reserve(classes);
  for (uint32_t id = 1; id < n; ++id) {
    uint32_t& c = class_new_id[cls[id]];
    if (!c) {
      keep.push_back(id);
      c = static_cast<uint32_t>(keep.size());
    }
    new_id[id] = c;
  }
  size_t type_len = 0;
  for (uint32_t id : keep) type_len += g.size[id];
  struct btf_header hdr{};
  std::memcpy(&hdr, raw.data(), sizeof(hdr));
  hdr.hdr_len = sizeof(hdr);
  hdr.type_off = 0;
  hdr.type_len = static_cast<uint32_t>(type_len);
  hdr.str_off = hdr.type_len;
  hdr.str_len = layout.str_len;
  std::vector<uint8_t> out(sizeof(hdr) + type_len + layout.str_len);
  std::memcpy(out.data(), &hdr, sizeof(hdr));
  uint8_t* p = out.data() + sizeof(hdr);
  for (uint32_t id : keep) {
    std::memcpy(p, g.types + g.offset[id], g.size[id]);
    for (uint32_t r = g.ref_begin[id]; r < g.ref_begin[id + 1]; ++r) {
      uint32_t to = new_id[g.ref_to[r]];  // void stays 0
      std::memcpy(p + g.ref_at[r], &to, sizeof(to));
    }
    p += g.size[id];
  }
  // Identical records name identical string offsets, so every string is still
  // named by a kept type and the section stays as it was.
  std::memcpy(p, layout.strs, layout.str_len);
  *types = static_cast<uint32_t>(keep.size());
  return out;
}

}  // namespace btfd::btf
