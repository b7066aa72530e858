// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The minimizer's relocation report, compact from the start: a relocation is a
// row of numbers, and each string (object, section, kind, spec) is held once
// and named by its index. A hostile object repeats long names over tens of
// thousands of relocations; spelled out per relocation they cost GBs. The bytes
// the compact JSON will take are counted, against the call's budget, as rows
// and strings are added, so the report stops at its limit instead of being
// measured after it was built.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <iterator>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "btf/budget.hpp"

namespace btfd::btf {

// One relocation spelled out: what local tools (btfctl minimize --report,
// check) read. Made from the table on demand; names are the objects' and the
// kernel's bytes, not necessarily UTF-8.
struct RelocReport {
  std::string object;
  std::string section;
  uint32_t index = 0;        // "relo #N" within its section
  uint32_t insn = 0;         // instruction index in the section
  std::string kind;          // libbpf's name, e.g. "byte_off"
  std::string local_spec;    // "[5] struct task_struct.real_parent (0:95 @ offset 1280)"
  std::string access;        // the local spec without ids and offsets: "struct task_struct.real_parent"
  std::string target_spec;   // first matching candidate's spec, or "" when none matched
  uint32_t candidates = 0;   // candidates examined
  uint32_t matches = 0;      // candidates that matched (all of them are kept)
  bool skipped = false;      // TYPE_ID_LOCAL: needs no target BTF
  // With MinimizeOptions::report_ambiguity: libbpf's ambiguity error for this
  // relocation (libbpf fails the object's load on it), else "".
  std::string ambiguity;
};

class RelocTable {
 public:
  static constexpr int32_t kNoMatch = -1;  // target: no candidate matched
  static constexpr int32_t kLocal = -2;    // target: TYPE_ID_LOCAL, needs no target BTF
  static constexpr int32_t kNone = -1;     // ambiguity: none
  struct Row {
    uint32_t object = 0, section = 0;  // strings()
    uint32_t index = 0, insn = 0;
    uint32_t kind = 0, local = 0;      // strings()
    int32_t target = kNoMatch;         // strings(), kNoMatch or kLocal
    uint32_t candidates = 0, matches = 0;
    int32_t ambiguity = kNone;         // strings() or kNone
    uint32_t access = 0;               // accesses(): local tools only, not in the compact report
  };

  size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  const std::vector<Row>& rows() const { return rows_; }
  // The objects' and kernel's bytes as they are (not necessarily UTF-8).
  const std::deque<std::string>& strings() const { return strings_; }
  const std::deque<std::string>& accesses() const { return accesses_; }
  // compact_report(*this).dump().size(), counted as the table grew.
  uint64_t compact_bytes() const;

  RelocReport operator[](size_t i) const;
  // Iterates RelocReport values, spelled out one at a time.
  class const_iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = RelocReport;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = RelocReport;
    const_iterator() = default;
    const_iterator(const RelocTable* t, size_t i) : t_(t), i_(i) {}
    RelocReport operator*() const { return (*t_)[i_]; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    const_iterator operator++(int) {
      auto old = *this;
      ++i_;
      return old;
    }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }

   private:
    const RelocTable* t_ = nullptr;
    size_t i_ = 0;
  };
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, rows_.size()}; }

 private:
  friend class RelocTableBuilder;
  std::vector<Row> rows_;
  std::deque<std::string> strings_, accesses_;  // a deque: the builder's index points into them
  uint64_t rows_bytes_ = 0, strings_bytes_ = 0;  // JSON bytes of each array's elements and commas
};

// Fills a table under a call's budget: a string is stored (and its bytes
// counted) the first time it is seen.
class RelocTableBuilder {
 public:
  explicit RelocTableBuilder(CallBudget& budget);
  // Index of s in strings(): report bytes and memory charged when it is new.
  Result<uint32_t> string(std::string_view s);
  // Index of s in accesses(): memory only.
  Result<uint32_t> access(std::string_view s);
  Status add(const RelocTable::Row& row);
  RelocTable finish() &&;

 private:
  Result<uint32_t> intern(std::deque<std::string>& pool, std::unordered_map<std::string_view, uint32_t>& index,
                          std::string_view s, bool reported);
  // Report bytes, the JSON's frame with the first.
  Status count_json(uint64_t bytes, uint64_t& into);
  CallBudget& budget_;
  bool framed_ = false;
  RelocTable table_;
  std::unordered_map<std::string_view, uint32_t> string_index_, access_index_;
};

// The verbose form, one object per relocation with every name spelled out:
// for btfctl minimize --report --json (local, not a daemon cost).
nlohmann::json report_to_json(const RelocTable& relocs);
// The compact form (minimizer.hpp describes it).
nlohmann::json compact_report(const RelocTable& relocs);

}  // namespace btfd::btf
