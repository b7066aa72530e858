// SPDX-License-Identifier: GPL-2.0-or-later
// btfd-fetch: one hub try on behalf of btfd (see hub/fetch_helper.hpp). Not
// meant to be run by hand: btfd passes the output file as fd 3 and reads the
// report from fd 4.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "hub/fetch_helper.hpp"

namespace {

constexpr int kOutFd = 3, kReportFd = 4;

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

int main(int argc, char** argv) {
  // Die with the daemon; and if it is already gone, do not start.
  pid_t parent = 0;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--parent=", 9) == 0) parent = static_cast<pid_t>(std::atoi(argv[i] + 9));
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (parent && ::getppid() != parent) return 2;
  if (::fcntl(kOutFd, F_GETFD) < 0 || ::fcntl(kReportFd, F_GETFD) < 0) {
    std::fprintf(stderr, "btfd-fetch: run by btfd only (expects the output on fd 3 and the report pipe on fd 4)\n");
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  auto req = btfd::hub::parse_helper_args(argc, argv);
  if (!req) {
    report(btfd::hub::format_fail(req.error(), btfd::hub::FetchFailure::fatal));
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
  auto r = btfd::hub::attempt_in_process(*req, kOutFd, progress, &failure);
  if (!r) {
    report(btfd::hub::format_fail(r.error(), failure));
    return 1;
  }
  report(btfd::hub::format_done(*r));
  return 0;
}
