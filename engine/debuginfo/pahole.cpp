// SPDX-License-Identifier: GPL-2.0-or-later
#include "debuginfo/pahole.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>

#include "debuginfo/temp_files.hpp"
#include "util/fd.hpp"

extern char** environ;

namespace btfd::debuginfo {
namespace {

std::mutex g_mu;
std::set<pid_t> g_running;  // not yet reaped: a pid here cannot have been reused
bool g_cancelled = false;

// A temp directory for one run's output, removed with what is in it.
struct TempDir {
  std::string path;
  UniqueFd lock;  // held while in use (temp_files.hpp)
  ~TempDir() {
    if (path.empty()) return;
    ::unlink((path + "/out.btf").c_str());
    ::rmdir(path.c_str());
  }
};

struct Outcome {
  int status = 0;
  bool timed_out = false;
  int exec_errno = 0;  // execve failed with this
  std::string stderr_tail;
};

// Everything the child needs is built before fork(): after it, in a
// multi-threaded process, the child calls only async-signal-safe functions.
// stdout_too: its stdout goes where stderr goes (pahole --version prints there).
Result<Outcome> run_child(const PaholeOptions& o, const std::vector<std::string>& args, bool stdout_too = false) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) return sys_error(errno, "cannot open /dev/null");
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) < 0) return sys_error(errno, "cannot create a pipe for pahole");
  UniqueFd err_r(err_pipe[0]), err_w(err_pipe[1]);
  // Closed by a successful execve; carries its errno otherwise.
  int exec_pipe[2];
  if (::pipe2(exec_pipe, O_CLOEXEC) < 0) return sys_error(errno, "cannot create a pipe for pahole");
  UniqueFd exec_r(exec_pipe[0]), exec_w(exec_pipe[1]);
  const auto secs = static_cast<rlim_t>(std::max<int64_t>(1, o.wall.count()));
  struct rlimit as{static_cast<rlim_t>(o.memory_bytes), static_cast<rlim_t>(o.memory_bytes)};
  struct rlimit cpu{secs, secs + 1};
  struct rlimit fsize{static_cast<rlim_t>(o.max_output), static_cast<rlim_t>(o.max_output)};
  struct rlimit core{0, 0};
  const pid_t parent = ::getpid();
  pid_t pid;
  {
    std::lock_guard lock(g_mu);
    if (g_cancelled) return make_error(Errc::cancelled, "BTF generation is cancelled: btfd is stopping");
    pid = ::fork();
    if (pid < 0) return sys_error(errno, "cannot start pahole");
    if (pid == 0) {
      sigset_t none;
      sigemptyset(&none);
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      for (int s = 1; s < NSIG; ++s) ::sigaction(s, &dfl, nullptr);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      // glibc's setrlimit is the prlimit64 system call, which btfd.service's
      // filter allows (@default); its ~@resources denies only the old setrlimit.
      if (::setrlimit(RLIMIT_AS, &as) || ::setrlimit(RLIMIT_CPU, &cpu) || ::setrlimit(RLIMIT_FSIZE, &fsize) ||
          ::setrlimit(RLIMIT_CORE, &core))
        ::_exit(126);
      if (::dup2(devnull.get(), 0) < 0 || ::dup2(stdout_too ? err_w.get() : devnull.get(), 1) < 0 || ::dup2(err_w.get(), 2) < 0) ::_exit(126);
      if (exec_w.get() != 3 && ::dup2(exec_w.get(), 3) < 0) ::_exit(126);
      ::fcntl(3, F_SETFD, FD_CLOEXEC);
      ::close_range(4, ~0u, 0);
      ::execve(argv[0], argv.data(), environ);
      int e = errno;
      (void)!::write(3, &e, sizeof e);
      ::_exit(127);
    }
    g_running.insert(pid);
  }
  err_w.reset();
  exec_w.reset();
  Outcome out;
  {
    int e = 0;
    ssize_t got;
    while ((got = ::read(exec_r.get(), &e, sizeof e)) < 0 && errno == EINTR) {
    }
    out.exec_errno = got == static_cast<ssize_t>(sizeof e) ? e : 0;
  }
  auto deadline = std::chrono::steady_clock::now() + o.wall;
  // stderr until it closes or the deadline: only its tail is kept.
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      out.timed_out = true;
      break;
    }
    struct pollfd p{err_r.get(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    char chunk[4096];
    ssize_t got = ::read(err_r.get(), chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    out.stderr_tail.append(chunk, static_cast<size_t>(got));
    if (out.stderr_tail.size() > o.stderr_bytes) out.stderr_tail.erase(0, out.stderr_tail.size() - o.stderr_bytes);
  }
  // Reaping and leaving g_running under one lock: cancel_running_pahole never
  // signals a pid that was reaped (and reused).
  for (;;) {
    {
      std::lock_guard lock(g_mu);
      if (!out.timed_out && std::chrono::steady_clock::now() >= deadline) out.timed_out = true;
      if (out.timed_out) ::kill(pid, SIGKILL);
      pid_t w = ::waitpid(pid, &out.status, out.timed_out ? 0 : WNOHANG);
      if (w == pid || (w < 0 && errno != EINTR)) {
        g_running.erase(pid);
        break;
      }
    }
    ::usleep(5000);
  }
  return out;
}

std::string tail_text(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n') c = '?';
  return s.empty() ? "" : ": " + s;
}

// Why a run failed, in words naming the limit that stopped it.
Status judge(const PaholeOptions& o, const Outcome& out, const std::string& what) {
  {
    std::lock_guard lock(g_mu);
    if (g_cancelled) return make_error(Errc::cancelled, "pahole for " + what + " was stopped: btfd is stopping");
  }
  if (out.timed_out)
    return make_error(Errc::timeout, "pahole did not finish " + what + " in " + std::to_string(o.wall.count()) +
                                         " s ([Debuginfo] PaholeSec=) and was killed");
  // A pahole short of memory fails in many ways (execve's ENOMEM, a failed
  // mmap in the loader, a NULL malloc it does not check): every failure names the limit.
  const std::string limits = " (its limits: " + std::to_string(o.memory_bytes >> 20) +
                             " MiB of address space, [Debuginfo] PaholeMemory=)";
  if (out.exec_errno)
    return make_error(Errc::not_found, "cannot run pahole \"" + o.path + "\" ([Debuginfo] Pahole=): " +
                                           std::strerror(out.exec_errno) + (out.exec_errno == ENOMEM ? limits : ""));
  if (WIFSIGNALED(out.status)) {
    int sig = WTERMSIG(out.status);
    if (sig == SIGXCPU)
      return make_error(Errc::timeout, "pahole used its " + std::to_string(o.wall.count()) + " s of CPU time for " + what +
                                           " ([Debuginfo] PaholeSec=)");
    if (sig == SIGXFSZ)
      return make_error(Errc::too_large, "pahole's BTF for " + what + " is larger than " + std::to_string(o.max_output) +
                                             " bytes ([Hub] MaxKernelSize=)");
    return make_error(Errc::corrupt, "pahole died of signal " + std::to_string(sig) + " (" + strsignal(sig) + ") on " +
                                         what + limits + tail_text(out.stderr_tail));
  }
  int code = WEXITSTATUS(out.status);
  if (code == 126) return make_error(Errc::internal, "cannot set pahole's limits");
  if (code != 0)
    return make_error(Errc::corrupt, "pahole failed on " + what + " (exit status " + std::to_string(code) + ")" + limits +
                                         tail_text(out.stderr_tail));
  return {};
}

}  // namespace

Result<std::vector<uint8_t>> run_pahole(const PaholeOptions& o, const std::string& debug_file,
                                        const std::string& base_btf) {
  if (o.tmp_dir.empty()) return make_error(Errc::internal, "pahole has no directory for its output");
  TempDir tmp;
  std::string tmpl = o.tmp_dir + "/" + kPahoPrefix + "XXXXXX";
  if (!::mkdtemp(tmpl.data())) return sys_error(errno, "cannot create a directory for pahole in \"" + o.tmp_dir + "\"");
  tmp.path = tmpl;
  tmp.lock = UniqueFd(::open(tmp.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!tmp.lock) return sys_error(errno, "cannot open pahole's directory \"" + tmp.path + "\"");
  BTFD_TRY_VOID(lock_in_use(tmp.lock.get()));
  std::string out_path = tmp.path + "/out.btf";
  std::vector<std::string> args = {o.path, "--btf_encode_detached=" + out_path};
  if (!base_btf.empty()) args.push_back("--btf_base=" + base_btf);
  args.push_back(debug_file);
  std::string what = "\"" + debug_file + "\"";
  BTFD_TRY(Outcome out, run_child(o, args));
  BTFD_TRY_VOID(judge(o, out, what));
  BTFD_TRY(UniqueFd fd, open_file(out_path, O_RDONLY | O_NOFOLLOW));
  auto bytes = read_all(fd.get(), o.max_output);
  if (!bytes) return std::move(bytes).error().wrap("pahole's output for " + what);
  return bytes;
}

Result<std::string> pahole_version(const PaholeOptions& o) {
  PaholeOptions quick = o;
  quick.wall = std::min(o.wall, std::chrono::seconds(10));
  quick.stderr_bytes = 256;
  BTFD_TRY(Outcome out, run_child(quick, {o.path, "--version"}, true));
  BTFD_TRY_VOID(judge(quick, out, "--version"));
  std::string v = out.stderr_tail;
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  bool plausible = !v.empty() && v.size() <= 32 &&
                   std::all_of(v.begin(), v.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_'; });
  if (!plausible) return make_error(Errc::corrupt, "\"" + o.path + " --version\" printed no version");
  return v;
}

void cancel_running_pahole() {
  std::lock_guard lock(g_mu);
  g_cancelled = true;
  for (pid_t pid : g_running) ::kill(pid, SIGKILL);
}

}  // namespace btfd::debuginfo
