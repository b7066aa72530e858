// SPDX-License-Identifier: GPL-2.0-or-later
#include "hub/fetch_helper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>

#include "btfd-config.h"
#include "hub/btf_check.hpp"
#include "util/fd.hpp"

extern char** environ;

namespace btfd::hub {
namespace {

constexpr size_t kMaxReport = 64 * 1024;  // a misbehaving child cannot make us buffer more

std::mutex g_running_mu;
std::set<pid_t> g_running;  // helpers not yet reaped: a pid here cannot have been reused
bool g_cancelled = false;   // after cancel_running_helpers, no new helper starts

const char* failure_name(FetchFailure f) {
  switch (f) {
    case FetchFailure::none: return "none";
    case FetchFailure::not_found: return "not-found";
    case FetchFailure::transient: return "transient";
    case FetchFailure::fatal: return "fatal";
    case FetchFailure::payload: return "payload";
    case FetchFailure::local: return "local";
  }
  return "fatal";
}

FetchFailure failure_from(std::string_view s) {
  for (auto f : {FetchFailure::none, FetchFailure::not_found, FetchFailure::transient, FetchFailure::payload,
                 FetchFailure::local})
    if (s == failure_name(f)) return f;
  return FetchFailure::fatal;
}

Errc errc_from(std::string_view s) {
  for (int c = static_cast<int>(Errc::invalid_argument); c <= static_cast<int>(Errc::internal); ++c)
    if (s == errc_name(static_cast<Errc>(c))) return static_cast<Errc>(c);
  return Errc::internal;
}

template <typename T>
bool parse_num(std::string_view s, T* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Splits off the next space-separated word.
std::string_view word(std::string_view* line) {
  size_t sp = line->find(' ');
  std::string_view w = line->substr(0, sp);
  *line = sp == std::string_view::npos ? std::string_view() : line->substr(sp + 1);
  return w;
}

struct Report {
  bool done = false, failed = false;
  AttemptResult result;
  Error error;
  FetchFailure failure = FetchFailure::fatal;
};

// One line from the child; false when it does not follow the protocol.
bool take_line(std::string_view line, const ProgressFn& progress, Report* r) {
  std::string_view kind = word(&line);
  if (kind == "progress") {
    Progress p;
    if (!parse_num(word(&line), &p.downloaded) || !parse_num(word(&line), &p.total)) return false;
    if (progress) progress(p);
    return true;
  }
  if (kind == "done") {
    int verified = 0;
    r->done = parse_num(word(&line), &r->result.downloaded) && parse_num(word(&line), &r->result.size) &&
              parse_num(word(&line), &verified);
    r->result.checksum_verified = verified != 0;
    return r->done;
  }
  if (kind == "fail") {
    r->error.code = errc_from(word(&line));
    r->failure = failure_from(word(&line));
    if (!parse_num(word(&line), &r->error.sys_errno)) return false;
    r->error.message = std::string(line);
    r->failed = true;
    return true;
  }
  return false;
}

Result<AttemptResult> run_helper(const std::string& helper, std::chrono::milliseconds grace, const AttemptRequest& req,
                                 int out_fd, const ProgressFn& progress, FetchFailure* failure) {
  *failure = FetchFailure::fatal;
  {
    std::lock_guard lock(g_running_mu);
    if (g_cancelled) return make_error(Errc::cancelled, "downloads are cancelled: btfd is stopping");
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) < 0) return sys_error(errno, "cannot create a pipe for the fetch helper");
  UniqueFd report_r(pipe_fds[0]), report_w(pipe_fds[1]);
  auto args = helper_args(helper, req);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  // dup2 onto 3 and 4 clears close-on-exec there; every other descriptor of
  // ours is close-on-exec and closefrom makes sure of it.
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
  pid_t pid = -1;
  int err = posix_spawn(&pid, helper.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (err) return sys_error(err, "cannot start the fetch helper \"" + helper + "\"");
  report_w.reset();
  {
    std::lock_guard lock(g_running_mu);
    g_running.insert(pid);
  }

  // The child enforces the transfer limits itself; this bound only catches a
  // child that hangs outside them.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(req.download.total_timeout_ms) + grace;
  Report report;
  std::string buf;
  bool protocol_ok = true, timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd p{report_r.get(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    char chunk[4096];
    ssize_t got = ::read(report_r.get(), chunk, sizeof(chunk));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    buf.append(chunk, static_cast<size_t>(got));
    for (size_t nl; (nl = buf.find('\n')) != std::string::npos;) {
      protocol_ok = protocol_ok && take_line(std::string_view(buf).substr(0, nl), progress, &report);
      buf.erase(0, nl + 1);
    }
    if (buf.size() > kMaxReport) {
      protocol_ok = false;
      break;
    }
  }
  if (timed_out || !protocol_ok) ::kill(pid, SIGKILL);
  // A child that closed its report but lingers gets until the deadline too.
  // Reaping and leaving g_running happen under one lock, so that
  // cancel_running_helpers never signals a pid that was reaped (and reused).
  int status = 0;
  for (;;) {
    {
      std::lock_guard lock(g_running_mu);
      pid_t w = ::waitpid(pid, &status, WNOHANG);
      bool late = w == 0 && std::chrono::steady_clock::now() >= deadline;
      if (late) {
        timed_out = true;
        ::kill(pid, SIGKILL);
        while ((w = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
        }
      }
      if (w == pid || (w < 0 && errno != EINTR)) {
        g_running.erase(pid);
        break;
      }
    }
    ::usleep(5000);
  }
  if (timed_out) return make_error(Errc::timeout, "the fetch helper did not finish \"" + req.url + "\" in time");
  if (!protocol_ok) return make_error(Errc::internal, "the fetch helper sent a malformed report for \"" + req.url + "\"");
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
  if (!report.done && !report.failed)
    return make_error(Errc::internal, "the fetch helper exited (status " + std::to_string(WEXITSTATUS(status)) +
                                          ") without a valid report for \"" + req.url + "\"");
  if (report.failed) {
    *failure = report.failure;
    return std::move(report.error);
  }
  // The child is where hostile input is parsed; its word is not taken for the
  // output. Checking it again here is cheap next to the download.
  *failure = FetchFailure::payload;
  BTFD_TRY(uint64_t written, file_size(out_fd));
  if (written != report.result.size)
    return make_error(Errc::corrupt, "the fetch helper reported " + std::to_string(report.result.size) +
                                         " bytes of BTF but wrote " + std::to_string(written));
  if (auto st = check_kernel_btf_fd(out_fd, req.extract.max_output_bytes); !st)
    return std::move(st).error().wrap("output of the fetch helper for \"" + req.url + "\"");
  *failure = FetchFailure::none;
  return report.result;
}

}  // namespace

void cancel_running_helpers() {
  std::lock_guard lock(g_running_mu);
  g_cancelled = true;
  for (pid_t pid : g_running) ::kill(pid, SIGKILL);
}

std::string default_fetch_helper() {
  if (const char* env = std::getenv("BTFD_FETCH_HELPER"); env && *env) return env;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    std::string dir(self, static_cast<size_t>(n));
    dir.erase(dir.rfind('/') + 1);
    if (::access((dir + "btfd-fetch").c_str(), X_OK) == 0) return dir + "btfd-fetch";
  }
  return BTFD_FETCH_HELPER;
}

AttemptFn fetch_helper_attempt(std::string helper_path, std::chrono::milliseconds grace) {
  return [helper = std::move(helper_path), grace](const AttemptRequest& req, int out_fd, const ProgressFn& progress,
                                                  FetchFailure* failure) {
    return run_helper(helper, grace, req, out_fd, progress, failure);
  };
}

std::vector<std::string> helper_args(const std::string& helper_path, const AttemptRequest& req) {
  const auto& d = req.download;
  const Transport& t = req.transport;
  // Paths and host names only: a credential is read by the helper from its
  // file, so it never appears in an argument list (or /proc/PID/cmdline).
  std::vector<std::string> transport = {"--ca-file=" + t.ca_file, "--client-cert=" + t.client_cert,
                                        "--client-key=" + t.client_key, "--auth=" + t.auth,
                                        "--auth-file=" + t.auth_file, "--proxy-auth-file=" + t.proxy_auth_file,
                                        "--sums-cache=" + req.sums_cache};
  if (t.proxy) transport.push_back("--proxy=" + *t.proxy);
  if (t.no_proxy) transport.push_back("--no-proxy=" + *t.no_proxy);
  std::vector<std::string> args = {helper_path,
          "--url=" + req.url,
          "--release=" + req.release,
          "--temp-dir=" + req.temp_dir,
          "--sums-url=" + req.sums_url,
          "--sums-entry=" + req.sums_entry,
          "--connect-timeout-ms=" + std::to_string(d.connect_timeout_ms),
          "--timeout-ms=" + std::to_string(d.total_timeout_ms),
          "--low-speed-time=" + std::to_string(d.low_speed_time_s),
          "--max-bytes=" + std::to_string(d.max_bytes),
          "--max-redirects=" + std::to_string(d.max_redirects),
          "--max-output-bytes=" + std::to_string(req.extract.max_output_bytes),
          "--max-entries=" + std::to_string(req.extract.max_entries),
          "--parent=" + std::to_string(::getpid())};
  args.insert(args.end() - 1, transport.begin(), transport.end());
  return args;
}

Result<AttemptRequest> parse_helper_args(int argc, char** argv) {
  AttemptRequest req;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    size_t eq = a.find('=');
    if (a.substr(0, 2) != "--" || eq == std::string_view::npos)
      return make_error(Errc::invalid_argument, "unexpected argument \"" + std::string(a) + "\"");
    std::string_view key = a.substr(2, eq - 2), val = a.substr(eq + 1);
    bool ok = true;
    if (key == "url") req.url = val;
    else if (key == "release") req.release = val;
    else if (key == "temp-dir") req.temp_dir = val;
    else if (key == "sums-url") req.sums_url = val;
    else if (key == "sums-entry") req.sums_entry = val;
    else if (key == "connect-timeout-ms") ok = parse_num(val, &req.download.connect_timeout_ms);
    else if (key == "timeout-ms") ok = parse_num(val, &req.download.total_timeout_ms);
    else if (key == "low-speed-time") ok = parse_num(val, &req.download.low_speed_time_s);
    else if (key == "max-bytes") ok = parse_num(val, &req.download.max_bytes);
    else if (key == "max-redirects") ok = parse_num(val, &req.download.max_redirects);
    else if (key == "max-output-bytes") ok = parse_num(val, &req.extract.max_output_bytes);
    else if (key == "max-entries") ok = parse_num(val, &req.extract.max_entries);
    else if (key == "proxy") req.transport.proxy = std::string(val);
    else if (key == "no-proxy") req.transport.no_proxy = std::string(val);
    else if (key == "ca-file") req.transport.ca_file = val;
    else if (key == "client-cert") req.transport.client_cert = val;
    else if (key == "client-key") req.transport.client_key = val;
    else if (key == "auth") {
      req.transport.auth = val;
      ok = val.empty() || val == "bearer" || val == "basic";
    }
    else if (key == "auth-file") req.transport.auth_file = val;
    else if (key == "proxy-auth-file") req.transport.proxy_auth_file = val;
    else if (key == "sums-cache") req.sums_cache = val;
    else if (key == "parent") continue;  // read by the helper's main
    else return make_error(Errc::invalid_argument, "unknown option \"--" + std::string(key) + "\"");
    if (!ok) return make_error(Errc::invalid_argument, "bad value for --" + std::string(key));
  }
  if (req.url.empty() || req.release.empty()) return make_error(Errc::invalid_argument, "--url and --release are required");
  return req;
}

std::string format_progress(const Progress& p) {
  return "progress " + std::to_string(p.downloaded) + " " + std::to_string(p.total) + "\n";
}

std::string format_done(const AttemptResult& r) {
  return "done " + std::to_string(r.downloaded) + " " + std::to_string(r.size) + " " +
         (r.checksum_verified ? "1" : "0") + "\n";
}

std::string format_fail(const Error& e, FetchFailure failure) {
  std::string msg = e.message;
  for (char& c : msg)
    if (c == '\n' || c == '\r') c = ' ';
  if (msg.size() > 1024) msg.resize(1024);
  return std::string("fail ") + errc_name(e.code) + " " + failure_name(failure) + " " + std::to_string(e.sys_errno) +
         " " + msg + "\n";
}

}  // namespace btfd::hub
