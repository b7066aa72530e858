// SPDX-License-Identifier: GPL-2.0-or-later
// btfd-fetch: one hub try on behalf of btfd (see hub/fetch_helper.hpp). Not
// meant to be run by hand: btfd passes the request as JSON on stdin, the
// output file as fd 3, and reads the report (JSON lines) from fd 4.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "hub/fetch_helper.hpp"
#include "util/no_new_processes.hpp"
#include "util/sha256.hpp"

namespace {

constexpr int kRequestFd = 0, kOutFd = 3, kReportFd = 4;

void report(const std::string& line) {
  const char* p = line.data();
  size_t left = line.size();
  while (left) {
    ssize_t n = ::write(kReportFd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) std::_Exit(3);  // nobody is listening any more
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace

int main(int argc, char**) {
  // Die with the daemon (and below: if it is already gone, do not start).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (argc != 1 || ::fcntl(kOutFd, F_GETFD) < 0 || ::fcntl(kReportFd, F_GETFD) < 0) {
    std::fprintf(stderr, "btfd-fetch: run by btfd only (takes no arguments; expects the request on stdin, the "
                         "output on fd 3 and the report pipe on fd 4)\n");
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  // First of all, while no thread runs and nothing a mirror sent was read:
  // this process may start threads (libcurl's resolver), never a process.
  // btfd relies on it to read the output in place once it has reaped us
  // (hub/fetch_helper.cpp): nobody is left who could change the file.
  if constexpr (btfd::kCanForbidNewProcesses) {
    if (auto st = btfd::forbid_new_processes(); !st) {
      report(btfd::hub::format_fail(st.error(), btfd::hub::FetchFailure::fatal));
      return 1;
    }
  }
  // The whole request is read before anything starts.
  auto req = btfd::hub::read_request(kRequestFd);
  if (!req) {
    report(btfd::hub::format_fail(req.error(), btfd::hub::FetchFailure::fatal));
    return 1;
  }
  if (req->parent && ::getppid() != req->parent) return 2;
  // btfd checks the BTF it is handed itself, and hashes the same bytes it
  // checked (hub/fetch_helper.cpp): checking it here too was a second read of
  // every byte and its page faults, ~20 ms of a 4.5 MB kernel's fetch.
  req->attempt.check_output = false;
  // A download's digest is part of its report: without libcrypto, say so.
  if (auto st = btfd::sha256_available(); !st) {
    report(btfd::hub::format_fail(st.error(), btfd::hub::FetchFailure::fatal));
    return 1;
  }
  // Progress at most every 100 ms: the daemon streams it to clients.
  auto last = std::chrono::steady_clock::time_point{};
  auto progress = [&](const btfd::hub::Progress& p) {
    auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::milliseconds(100)) return;
    last = now;
    report(btfd::hub::format_progress(p));
  };
  btfd::hub::FetchFailure failure = btfd::hub::FetchFailure::fatal;
  auto r = btfd::hub::attempt_in_process(req->attempt, kOutFd, progress, &failure);
  if (!r) {
    report(btfd::hub::format_fail(r.error(), failure));
    return 1;
  }
  // btfd fsyncs the output before it stores it (a blob is durable before it
  // is reported stored); starting the writeback now lets the disk work while
  // btfd reaps this process and checks the BTF, and leaves its fsync less to
  // wait for. Only a head start: durability is still btfd's fsync.
  if (req->attempt.kind != btfd::hub::kKindDebuginfo) (void)::sync_file_range(kOutFd, 0, 0, SYNC_FILE_RANGE_WRITE);
  report(btfd::hub::format_done(*r));
  return 0;
}
