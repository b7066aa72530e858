// SPDX-License-Identifier: GPL-2.0-or-later
#include "btf/reloc_report.hpp"

#include "btf/utf8.hpp"

namespace btfd::btf {
namespace {

// `{"relocations":[` + `],"strings":[` + `]}`: nlohmann sorts an object's keys.
constexpr uint64_t kFrameBytes = 16 + 13 + 2;
// A stored string's bookkeeping besides its bytes: its std::string in the
// deque, the index's node and bucket.
constexpr uint64_t kStringOverhead = 96;

uint64_t digits(int64_t v) {
  uint64_t n = v < 0 ? 2 : 1;  // the sign
  for (uint64_t a = static_cast<uint64_t>(v < 0 ? -v : v); a >= 10; a /= 10) ++n;
  return n;
}

// What dump() writes for a row: "[o,s,relo,insn,kind,local,target,cands,matches(,ambiguity)]".
uint64_t row_bytes(const RelocTable::Row& r) {
  uint64_t n = 2 + 8 + digits(r.object) + digits(r.section) + digits(r.index) + digits(r.insn) + digits(r.kind) +
               digits(r.local) + digits(r.target) + digits(r.candidates) + digits(r.matches);
  if (r.ambiguity != RelocTable::kNone) n += 1 + digits(r.ambiguity);
  return n;
}

}  // namespace

uint64_t RelocTable::compact_bytes() const { return kFrameBytes + rows_bytes_ + strings_bytes_; }

RelocReport RelocTable::operator[](size_t i) const {
  const Row& r = rows_[i];
  RelocReport out;
  out.object = strings_[r.object];
  out.section = strings_[r.section];
  out.index = r.index;
  out.insn = r.insn;
  out.kind = strings_[r.kind];
  out.local_spec = strings_[r.local];
  out.access = accesses_[r.access];
  if (r.target >= 0) out.target_spec = strings_[static_cast<size_t>(r.target)];
  out.skipped = r.target == kLocal;
  out.candidates = r.candidates;
  out.matches = r.matches;
  if (r.ambiguity >= 0) out.ambiguity = strings_[static_cast<size_t>(r.ambiguity)];
  return out;
}

RelocTableBuilder::RelocTableBuilder(CallBudget& budget) : budget_(budget) {}

Status RelocTableBuilder::count_json(uint64_t bytes, uint64_t& into) {
  BTFD_TRY_VOID(budget_.charge_report(bytes + (framed_ ? 0 : kFrameBytes)));
  framed_ = true;
  into += bytes;
  return {};
}

Result<uint32_t> RelocTableBuilder::intern(std::deque<std::string>& pool,
                                           std::unordered_map<std::string_view, uint32_t>& index, std::string_view s,
                                           bool reported) {
  if (auto it = index.find(s); it != index.end()) return it->second;
  if (pool.size() >= INT32_MAX) return make_error(Errc::too_large, "too many distinct strings in the report");
  // Counted as it will be written: valid UTF-8, escaped, a comma before all but the first.
  if (reported) BTFD_TRY_VOID(count_json(json_string_bytes(valid_utf8(s)) + (pool.empty() ? 0 : 1), table_.strings_bytes_));
  BTFD_TRY_VOID(budget_.charge(s.size() + kStringOverhead));
  pool.emplace_back(s);
  auto id = static_cast<uint32_t>(pool.size() - 1);
  index.emplace(pool.back(), id);
  return id;
}

Result<uint32_t> RelocTableBuilder::string(std::string_view s) {
  return intern(table_.strings_, string_index_, s, true);
}

Result<uint32_t> RelocTableBuilder::access(std::string_view s) {
  return intern(table_.accesses_, access_index_, s, false);
}

Status RelocTableBuilder::add(const RelocTable::Row& row) {
  auto& rows = table_.rows_;
  BTFD_TRY_VOID(count_json(row_bytes(row) + (rows.empty() ? 0 : 1), table_.rows_bytes_));
  if (rows.size() == rows.capacity()) {
    // Growing doubles the capacity: charged before it is allocated.
    size_t grown = rows.empty() ? 64 : rows.capacity() * 2;
    BTFD_TRY_VOID(budget_.charge((grown - rows.capacity()) * sizeof(RelocTable::Row)));
    rows.reserve(grown);
  }
  rows.push_back(row);
  return {};
}

RelocTable RelocTableBuilder::finish() && { return std::move(table_); }

nlohmann::json report_to_json(const RelocTable& relocs) {
  const auto& str = relocs.strings();
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& r : relocs.rows()) {
    // Names come from the client's object and the kernel, neither of them
    // bound to UTF-8; the report must dump with nlohmann's strict default.
    nlohmann::json j = {{"object", valid_utf8(str[r.object])},
                        {"section", valid_utf8(str[r.section])},
                        {"relo", r.index},
                        {"insn", r.insn},
                        {"kind", valid_utf8(str[r.kind])},
                        {"local", valid_utf8(str[r.local])},
                        {"candidates", r.candidates},
                        {"matches", r.matches}};
    j["target"] = r.target == RelocTable::kLocal     ? nlohmann::json("local")
                  : r.target == RelocTable::kNoMatch ? nlohmann::json()
                                                     : nlohmann::json(valid_utf8(str[static_cast<size_t>(r.target)]));
    arr.push_back(std::move(j));
  }
  return arr;
}

nlohmann::json compact_report(const RelocTable& relocs) {
  nlohmann::json strings = nlohmann::json::array();
  for (const auto& s : relocs.strings()) strings.push_back(valid_utf8(s));
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : relocs.rows()) {
    nlohmann::json row = {r.object, r.section, r.index, r.insn, r.kind, r.local, r.target, r.candidates, r.matches};
    if (r.ambiguity != RelocTable::kNone) row.push_back(r.ambiguity);
    rows.push_back(std::move(row));
  }
  return {{"strings", std::move(strings)}, {"relocations", std::move(rows)}};
}

}  // namespace btfd::btf
