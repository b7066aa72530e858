// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>
#include <linux/sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>
#include <thread>

#include "support/sanitizers.hpp"
#include "util/no_new_processes.hpp"

extern char** environ;


namespace {

// What the confined process saw, one bit per surprise (0: as it should be).
enum : int {
  kNotConfined = 1 << 0,     // forbid_new_processes() failed
  kForked = 1 << 1,          // fork() made a process
  kForkErrno = 1 << 2,       // fork() failed, but not with EPERM
  kCloned = 1 << 3,          // clone without CLONE_THREAD made a process
  kClone3 = 1 << 4,          // clone3 did not answer ENOSYS
  kNoThread = 1 << 5,        // a thread could not be started
  kSpawned = 1 << 6,         // posix_spawn started a program
  kStatus = 1 << 7,          // /proc/self/status does not show the filter and no_new_privs
};

bool reap_made(long pid) {
  if (pid == 0) ::_exit(0);  // the new process itself: it must not exist
  if (pid < 0) return false;
  ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
  return true;
}

int confined_child() {
  int seen = 0;
  if (!btfd::forbid_new_processes()) return kNotConfined;
  errno = 0;
  if (reap_made(::fork())) seen |= kForked;
  else if (errno != EPERM) seen |= kForkErrno;
  if (reap_made(::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0))) seen |= kCloned;
  struct clone_args args{};
  args.exit_signal = SIGCHLD;
  errno = 0;
  long r = ::syscall(SYS_clone3, &args, sizeof args);
  if (reap_made(r) || errno != ENOSYS) seen |= kClone3;
  try {
    int ran = 0;
    std::thread t([&ran] { ran = 1; });
    t.join();
    if (!ran) seen |= kNoThread;
  } catch (...) {
    seen |= kNoThread;
  }
#ifndef BTFD_TEST_SANITIZED
  // posix_spawn clones with CLONE_VM | CLONE_VFORK, which sanitizer builds allow.
  pid_t pid = 0;
  const char* argv[] = {"true", nullptr};
  if (::posix_spawn(&pid, "/bin/true", nullptr, nullptr, const_cast<char**>(argv), environ) == 0) {
    ::waitpid(pid, nullptr, 0);
    seen |= kSpawned;
  }
#endif
  std::ifstream status("/proc/self/status");
  std::string line;
  bool filter = false, nnp = false;
  while (std::getline(status, line)) {
    filter |= line == "Seccomp:\t2";
    nnp |= line == "NoNewPrivs:\t1";
  }
  if (!filter || !nnp) seen |= kStatus;
  return seen;
}

}  // namespace

TEST_CASE("forbid_new_processes: threads still start; fork, clone and spawn do not") {
  REQUIRE(btfd::kCanForbidNewProcesses);
  // The filter is irrevocable: it is put on a child of the test, not the test.
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(confined_child());
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  int seen = WEXITSTATUS(status);
  CHECK_MESSAGE((seen & kNotConfined) == 0, "the filter could not be installed");
  CHECK_MESSAGE((seen & kForked) == 0, "fork() made a process");
  CHECK_MESSAGE((seen & kForkErrno) == 0, "fork() failed otherwise than with EPERM");
  CHECK_MESSAGE((seen & kCloned) == 0, "clone without CLONE_THREAD made a process");
  CHECK_MESSAGE((seen & kClone3) == 0, "clone3 did not fail with ENOSYS");
  CHECK_MESSAGE((seen & kNoThread) == 0, "a thread could not be started");
  CHECK_MESSAGE((seen & kSpawned) == 0, "posix_spawn started /bin/true");
  CHECK_MESSAGE((seen & kStatus) == 0, "/proc/self/status shows no seccomp filter or no no_new_privs");
}

TEST_CASE("forbid_new_processes: processes not under it are not affected") {
  // The previous case's filter stayed in its child: this process still forks.
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(7);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 7));
}
