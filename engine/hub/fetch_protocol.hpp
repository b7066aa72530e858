// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// What btfd and btfd-fetch (fetch_helper.hpp) say to each other.
//
// The protocol, both directions JSON read through one field table per struct
// (fetch_protocol.cpp), so the writer and the reader cannot drift apart and a
// new field is one line:
//   stdin  the request, one JSON document (HelperRequest: the whole
//          AttemptRequest and btfd's pid), at most kMaxRequestBytes, read
//          whole before anything starts. btfd writes it into a memfd before
//          the child exists: unlike a pipe, that can neither block btfd nor
//          raise SIGPIPE when a child never reads it. argv is only the
//          program's name, so URLs, paths and mirror names stay out of
//          /proc/PID/cmdline (and `ps`), which every user can read.
//   fd 3   the output file (raw BTF).
//   fd 4   the report, JSON lines of at most kMaxReportLine bytes, each an
//          object with one member naming its kind:
//            {"progress":{"downloaded":N,"total":N}}
//            {"done":{"downloaded":N,"size":N,"checksum_verified":B}}
//            {"fail":{"error":{"code":"<errc-name>","errno":N,"message":S},"failure":"<fetch-failure>"}}
// Reading is strict on both sides: an unknown, missing, duplicated or
// mistyped field, a fraction or out-of-range number, an oversize document or
// line is Errc::protocol naming the field, never a guess or an exception.

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "hub/attempt.hpp"

namespace btfd::hub {

// A request holds a handful of paths and URLs: 64 KiB
// is far more than it needs and little to read. A report line holds at most
// a 1 KiB message, escaped.
inline constexpr size_t kMaxRequestBytes = 64 * 1024;
inline constexpr size_t kMaxReportLine = 8 * 1024;

struct HelperRequest {
  pid_t parent = 0;  // btfd: the child exits at once if it was already orphaned
  AttemptRequest attempt;
};

// Fails (invalid_argument) only for a string that is not UTF-8, which JSON
// cannot carry.
Result<std::string> format_request(const HelperRequest& req);
Result<HelperRequest> parse_request(std::string_view text);
// What btfd-fetch does first: reads fd (its stdin) to the end, at most
// kMaxRequestBytes, and parses it.
Result<HelperRequest> read_request(int fd);

struct FailReport {
  Error error;
  FetchFailure failure = FetchFailure::fatal;
};
using ReportRecord = std::variant<Progress, AttemptResult, FailReport>;

// Each ends in '\n', is at most kMaxReportLine bytes, and never fails: bytes
// of a message that are not UTF-8 become U+FFFD.
std::string format_progress(const Progress& p);
std::string format_done(const AttemptResult& r);
std::string format_fail(const Error& e, FetchFailure failure);
// One line, without its '\n'.
Result<ReportRecord> parse_report_line(std::string_view line);

}  // namespace btfd::hub
