// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: btfd's reader of btfd-fetch's report lines (the child is
// where hostile archives are parsed, so its report is not trusted), split on
// '\n' as the daemon splits them. What is read must be written back to the
// same record.
#include <cstdint>
#include <string_view>

#include "hub/fetch_helper.hpp"

namespace {

using namespace btfd::hub;

std::string_view without_newline(const std::string& line) { return std::string_view(line).substr(0, line.size() - 1); }

bool same(const ReportRecord& a, const ReportRecord& b) {
  if (a.index() != b.index()) return false;
  if (const auto* p = std::get_if<Progress>(&a))
    return p->downloaded == std::get<Progress>(b).downloaded && p->total == std::get<Progress>(b).total;
  if (const auto* d = std::get_if<AttemptResult>(&a)) {
    const auto& e = std::get<AttemptResult>(b);
    return d->downloaded == e.downloaded && d->size == e.size && d->checksum_verified == e.checksum_verified;
  }
  const auto& f = std::get<FailReport>(a);
  const auto& g = std::get<FailReport>(b);
  return f.failure == g.failure && f.error.code == g.error.code && f.error.sys_errno == g.error.sys_errno &&
         f.error.message == g.error.message;
}

std::string format(const ReportRecord& r) {
  if (const auto* p = std::get_if<Progress>(&r)) return format_progress(*p);
  if (const auto* d = std::get_if<AttemptResult>(&r)) return format_done(*d);
  return format_fail(std::get<FailReport>(r).error, std::get<FailReport>(r).failure);
}

void check_round_trip(const ReportRecord& r) {
  std::string line = format(r);
  if (line.size() > kMaxReportLine || line.back() != '\n') __builtin_trap();
  auto back = parse_report_line(without_newline(line));
  if (!back) __builtin_trap();
  // The writer shortens a long message and puts a failure on one line.
  if (const auto* f = std::get_if<FailReport>(&r))
    if (f->error.message.size() > 1024 || f->error.message.find_first_of("\r\n") != std::string::npos) return;
  if (!same(r, *back)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  while (!in.empty()) {
    size_t nl = in.find('\n');
    auto r = parse_report_line(in.substr(0, nl));
    if (r) check_round_trip(*r);
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
  }
  return 0;
}
