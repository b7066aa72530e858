// SPDX-License-Identifier: GPL-2.0-or-later
// The daemon's side of a hub try in btfd-fetch: the child spawned with its
// request, its reports read under the deadline, reaped, its result judged.
#include "hub/fetch_helper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "btfd-config.h"
#include "hub/btf_check.hpp"
#include "hub/fetch_protocol.hpp"
#include "util/fd.hpp"
#include "util/helper_path.hpp"
#include "util/no_new_processes.hpp"

extern char** environ;

namespace btfd::hub {
namespace {

Error protocol_error(std::string message) { return make_error(Errc::protocol, std::move(message)); }

// ---------------------------------------------------------------------------
// The daemon's side: one try in one child.

std::mutex g_running_mu;
std::set<pid_t> g_running;  // helpers not yet reaped: a pid here cannot have been reused
bool g_cancelled = false;   // after cancel_running_helpers, no new helper starts

// The request, written whole into a memfd for the child's stdin.
Result<UniqueFd> request_fd(const AttemptRequest& req) {
  BTFD_TRY(std::string text, format_request(HelperRequest{::getpid(), req}));
  UniqueFd mem(::memfd_create("btfd-fetch-request", MFD_CLOEXEC));
  if (!mem) return sys_error(errno, "cannot create the fetch helper's request");
  BTFD_TRY_VOID(write_all(mem.get(), text));
  if (::lseek(mem.get(), 0, SEEK_SET) < 0) return sys_error(errno, "cannot rewind the fetch helper's request");
  return mem;
}

struct Child {
  pid_t pid = -1;
  UniqueFd report;  // the read end of its fd 4
};

// Starts the helper with the request as stdin, the output as fd 3 and a
// report pipe as fd 4, and counts it as running.
Result<Child> spawn_helper(const std::string& helper, int request, int out_fd) {
  {
    std::lock_guard lock(g_running_mu);
    if (g_cancelled) return make_error(Errc::cancelled, "downloads are cancelled: btfd is stopping");
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) < 0) return sys_error(errno, "cannot create a pipe for the fetch helper");
  Child child;
  child.report = UniqueFd(pipe_fds[0]);
  UniqueFd report_w(pipe_fds[1]);
  char* argv[] = {const_cast<char*>(helper.c_str()), nullptr};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  // dup2 onto 0, 3 and 4 clears close-on-exec there; every other descriptor
  // of ours is close-on-exec and closefrom makes sure of it.
  posix_spawn_file_actions_adddup2(&fa, request, 0);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 3);
  posix_spawn_file_actions_adddup2(&fa, report_w.get(), 4);
  posix_spawn_file_actions_addclosefrom_np(&fa, 5);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  // The daemon blocks SIGTERM & co. for its event loop; the child must not inherit that.
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  int err = posix_spawn(&child.pid, helper.c_str(), &fa, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (err) return sys_error(err, "cannot start the fetch helper \"" + helper + "\"");
  std::lock_guard lock(g_running_mu);
  g_running.insert(child.pid);
  return child;
}

// What the child reported. A fail record wins over a done record.
struct Report {
  std::optional<AttemptResult> done;
  std::optional<FailReport> failed;
  std::optional<Error> malformed;  // the first line that broke the protocol; later lines are not read
  bool timed_out = false;
};

void take_line(std::string_view line, const ProgressFn& progress, Report* r) {
  auto record = parse_report_line(line);
  if (!record) {
    r->malformed = std::move(record).error();
    return;
  }
  if (auto* p = std::get_if<Progress>(&*record)) {
    if (progress) progress(*p);
  } else if (auto* done = std::get_if<AttemptResult>(&*record)) {
    r->done = *done;
  } else {
    r->failed = std::get<FailReport>(std::move(*record));
  }
}

// Reads report lines until the child closes fd 4, the deadline passes or a
// line is longer than the protocol allows.
Report read_reports(int fd, std::chrono::steady_clock::time_point deadline, const ProgressFn& progress) {
  Report report;
  std::string buf;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      report.timed_out = true;
      break;
    }
    struct pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    char chunk[4096];
    ssize_t got = ::read(fd, chunk, sizeof(chunk));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    buf.append(chunk, static_cast<size_t>(got));
    for (size_t nl; (nl = buf.find('\n')) != std::string::npos;) {
      if (!report.malformed) take_line(std::string_view(buf).substr(0, nl), progress, &report);
      buf.erase(0, nl + 1);
    }
    // A misbehaving child cannot make us buffer more than one line.
    if (buf.size() > kMaxReportLine) {
      if (!report.malformed)
        report.malformed = protocol_error("a report line is longer than " + std::to_string(kMaxReportLine) + " bytes");
      break;
    }
  }
  return report;
}

// Waits for the child until the deadline, then kills it; leaves g_running.
// Reaping and leaving g_running happen under one lock, so that
// cancel_running_helpers never signals a pid that was reaped (and reused).
// Sets *timed_out when the child had to be killed for lingering.
int reap(pid_t pid, std::chrono::steady_clock::time_point deadline, bool* timed_out) {
  int status = 0;
  // The child closed its report as it exited: it is a zombie within
  // microseconds, and its pidfd (close-on-exec by definition; the pid cannot
  // be reused before we reap it) says when, where a fixed sleep cost up to
  // 5 ms a try. Without pidfds (kernel < 5.3) the sleep stays.
  // (The raw call: Debian 12's <sys/pidfd.h> lacks extern "C".)
  UniqueFd exited(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  for (;;) {
    {
      std::lock_guard lock(g_running_mu);
      pid_t w = ::waitpid(pid, &status, WNOHANG);
      bool late = w == 0 && std::chrono::steady_clock::now() >= deadline;
      if (late) {
        *timed_out = true;
        ::kill(pid, SIGKILL);
        while ((w = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
        }
      }
      if (w == pid || (w < 0 && errno != EINTR)) {
        g_running.erase(pid);
        return status;
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    struct pollfd p{exited.get(), POLLIN, 0};
    if (!exited || ::poll(&p, 1, static_cast<int>(std::clamp<long>(left.count() + 1, 1, 1000))) < 0) ::usleep(5000);
  }
}

// The try's result from how the child ended and what it reported; a done
// report is checked against the output, not taken on its word.
Result<AttemptResult> judge(const AttemptRequest& req, int out_fd, int status, Report report, FetchFailure* failure) {
  *failure = FetchFailure::fatal;
  if (report.timed_out) return make_error(Errc::timeout, "the fetch helper did not finish \"" + req.url + "\" in time");
  if (report.malformed)
    return std::move(*report.malformed).wrap("the fetch helper sent a malformed report for \"" + req.url + "\"");
  {
    std::lock_guard lock(g_running_mu);
    if (g_cancelled) return make_error(Errc::cancelled, "download of \"" + req.url + "\" cancelled: btfd is stopping");
  }
  if (WIFSIGNALED(status)) {
    // Most likely a parser fell over on what the mirror sent.
    *failure = FetchFailure::payload;
    return make_error(Errc::corrupt, "the fetch helper died of signal " + std::to_string(WTERMSIG(status)) +
                                         " while fetching \"" + req.url + "\"");
  }
  if (report.failed) {
    *failure = report.failed->failure;
    return std::move(report.failed->error);
  }
  if (!report.done)
    return make_error(Errc::internal, "the fetch helper exited (status " + std::to_string(WEXITSTATUS(status)) +
                                          ") without a valid report for \"" + req.url + "\"");
  // The child is where hostile input is parsed; its word is not taken for the
  // output: btfd checks it here, and only here.
  *failure = FetchFailure::payload;
  BTFD_TRY(uint64_t written, file_size(out_fd));
  if (written != report.done->size)
    return make_error(Errc::corrupt, "the fetch helper reported " + std::to_string(report.done->size) +
                                         " bytes of BTF but wrote " + std::to_string(written));
  AttemptResult done = *report.done;
  // A debug file is checked by its reader (its build-id, then pahole's BTF).
  // A kernel's BTF is checked here, the only check it gets (btfd-fetch leaves
  // it to btfd): the file read once, validated and hashed, so that the
  // digest the store records is that of the bytes that passed.
  if (req.kind != kKindDebuginfo) {
    // The store fsyncs the output before it publishes it (after this check):
    // flushing it meanwhile on another thread overlaps the disk's wait (~5-8 ms
    // here) with the check, and leaves that fsync nothing to wait for. Only a
    // head start: durability is still the store's fsync, before the rename.
    std::optional<std::thread> flusher;
    try {
      flusher.emplace([out_fd] { (void)::fsync(out_fd); });
    } catch (const std::system_error&) {
      // No thread: the store's fsync does it all.
    }
    // btfd-fetch cannot start processes (util/no_new_processes.hpp) and has
    // been reaped: nobody but btfd holds the file, which is read in place.
    auto digest = check_kernel_btf_fd_digest(out_fd, req.extract.max_output_bytes,
                                             kCanForbidNewProcesses ? Snapshot::in_place : Snapshot::copy);
    if (flusher) flusher->join();
    if (!digest) return std::move(digest).error().wrap("output of the fetch helper for \"" + req.url + "\"");
    done.checked_digest = *digest;
  }
  *failure = FetchFailure::none;
  return done;
}

Result<AttemptResult> run_helper(const std::string& helper, std::chrono::milliseconds grace, const AttemptRequest& req,
                                 int out_fd, const ProgressFn& progress, FetchFailure* failure) {
  *failure = FetchFailure::fatal;
  BTFD_TRY(UniqueFd request, request_fd(req));
  BTFD_TRY(Child child, spawn_helper(helper, request.get(), out_fd));
  // The child enforces the transfer limits itself; this bound only catches a
  // child that hangs outside them.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(req.download.total_timeout_ms) + grace;
  Report report = read_reports(child.report.get(), deadline, progress);
  if (report.timed_out || report.malformed) ::kill(child.pid, SIGKILL);
  // A child that closed its report but lingers gets until the deadline too.
  int status = reap(child.pid, deadline, &report.timed_out);
  return judge(req, out_fd, status, std::move(report), failure);
}

}  // namespace

void cancel_running_helpers() {
  std::lock_guard lock(g_running_mu);
  g_cancelled = true;
  for (pid_t pid : g_running) ::kill(pid, SIGKILL);
}

std::string default_fetch_helper() { return helper_path("BTFD_FETCH_HELPER", "btfd-fetch", BTFD_FETCH_HELPER); }

AttemptFn fetch_helper_attempt(std::string helper_path, std::chrono::milliseconds grace) {
  return [helper = std::move(helper_path), grace](const AttemptRequest& req, int out_fd, const ProgressFn& progress,
                                                  FetchFailure* failure) {
    return run_helper(helper, grace, req, out_fd, progress, failure);
  };
}

}  // namespace btfd::hub
