// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Runs each hub try in btfd-fetch, a short-lived child process, the way
// systemd-importd hands downloads to systemd-pull: libcurl, TLS and
// libarchive parse what a mirror sends, so they run in an address space that
// holds nothing but the one output file, and a crash there costs one try, not
// the daemon. The daemon also stays free of those libraries (and their memory).
//
// The protocol, both directions JSON read through one field table per struct
// (fetch_helper.cpp), so the writer and the reader cannot drift apart and a
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

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "hub/attempt.hpp"

namespace btfd::hub {

// $BTFD_FETCH_HELPER, else btfd-fetch next to the running executable (a build
// tree), else the installed one.
std::string default_fetch_helper();
// A child still running `grace` after the transfer timeout is killed.
AttemptFn fetch_helper_attempt(std::string helper_path, std::chrono::milliseconds grace = std::chrono::seconds(30));

// Kills every fetch helper still running and refuses to start more (shutdown
// past its bound): their tries fail at once as cancelled and the workers
// waiting on them return. One-way: the process is about to exit.
void cancel_running_helpers();

// The protocol's pieces. A request holds a handful of paths and URLs: 64 KiB
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
