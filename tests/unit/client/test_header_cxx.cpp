// SPDX-License-Identifier: GPL-2.0-or-later
// The public header compiles as C++ too; the helpers check their arguments and
// are no-ops on a BTF-capable host; every call ends at its timeout, named.
#include <bpf/libbpf.h>
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "btfd/libbtfd.h"
#include "support/temp_dir.hpp"

TEST_CASE("ensure_core_btf leaves a caller's path alone and is a no-op with native BTF") {
  LIBBPF_OPTS(bpf_object_open_opts, opts);
  opts.btf_custom_path = "/caller/owned";
  CHECK(btfd_ensure_core_btf(&opts) == 0);
  CHECK(std::string(opts.btf_custom_path) == "/caller/owned");
  btfd_clean_core_btf(&opts);  // not ours: untouched
  CHECK(std::string(opts.btf_custom_path) == "/caller/owned");
  CHECK(btfd_ensure_core_btf(nullptr) < 0);
}

namespace {
// A listening socket nobody accepts from or answers on: connects succeed (the
// backlog takes them) and calls wait for ever, unless libbtfd gives up.
struct SilentSocket {
  btfd::test::TempDir dir;
  std::string path = dir / "silent.sock";
  int fd = -1;
  explicit SilentSocket(int backlog = 16) {
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa {};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) == 0);
    REQUIRE(::listen(fd, backlog) == 0);
  }
  ~SilentSocket() { ::close(fd); }
};

long elapsed_ms(std::chrono::steady_clock::time_point since) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since).count());
}
}  // namespace

TEST_CASE("a call to a btfd that never answers ends at the client's timeout, named") {
  SilentSocket s;
  btfd_client* c = nullptr;
  REQUIRE(btfd_connect(s.path.c_str(), &c) == 0);
  CHECK(btfd_set_timeout(c, -5) == -EINVAL);
  CHECK(btfd_set_timeout(nullptr, 100) == -EINVAL);
  REQUIRE(btfd_set_timeout(c, 300) == 0);
  struct btfd_result r;
  auto t0 = std::chrono::steady_clock::now();
  CHECK(btfd_get_btf(c, nullptr, nullptr, 0, &r) == BTFD_ERR_TIMEOUT);
  long ms = elapsed_ms(t0);
  CHECK(ms >= 280);
  CHECK(ms < 3000);
  CHECK(r.fd == -1);
  // The timed-out connection is not reused (a late reply would answer the
  // wrong call): the next call connects again, and is bounded again.
  t0 = std::chrono::steady_clock::now();
  CHECK(btfd_get_btf(c, nullptr, nullptr, 0, &r) == BTFD_ERR_TIMEOUT);
  CHECK(elapsed_ms(t0) < 3000);
  btfd_close(c);
  CHECK(std::string(btfd_strerror(BTFD_ERR_TIMEOUT)).find("timeout") != std::string::npos);
}

TEST_CASE("$BTFD_TIMEOUT_MSEC is every client's default; a malformed value is ignored") {
  SilentSocket s;
  REQUIRE(::setenv("BTFD_TIMEOUT_MSEC", "250", 1) == 0);
  btfd_client* c = nullptr;
  REQUIRE(btfd_connect(s.path.c_str(), &c) == 0);
  struct btfd_result r;
  auto t0 = std::chrono::steady_clock::now();
  CHECK(btfd_get_btf(c, nullptr, nullptr, 0, &r) == BTFD_ERR_TIMEOUT);
  CHECK(elapsed_ms(t0) < 3000);
  btfd_close(c);
  REQUIRE(::setenv("BTFD_TIMEOUT_MSEC", "soon", 1) == 0);
  REQUIRE(btfd_connect(s.path.c_str(), &c) == 0);  // default timeout: nothing to see but no failure
  btfd_close(c);
  ::unsetenv("BTFD_TIMEOUT_MSEC");
}

TEST_CASE("a connect to a btfd whose backlog is full ends at the timeout") {
  SilentSocket s(0);
  // Fill the backlog with connections nobody accepts.
  std::vector<int> fillers;
  for (int i = 0; i < 64; ++i) {
    int f = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un sa {};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", s.path.c_str());
    int r = ::connect(f, reinterpret_cast<struct sockaddr*>(&sa), sizeof sa);
    fillers.push_back(f);
    if (r < 0 && errno == EAGAIN) break;
  }
  REQUIRE(::setenv("BTFD_TIMEOUT_MSEC", "300", 1) == 0);
  btfd_client* c = nullptr;
  auto t0 = std::chrono::steady_clock::now();
  CHECK(btfd_connect(s.path.c_str(), &c) == BTFD_ERR_TIMEOUT);
  CHECK(elapsed_ms(t0) < 3000);
  CHECK(c == nullptr);
  ::unsetenv("BTFD_TIMEOUT_MSEC");
  for (int f : fillers) ::close(f);
}

TEST_CASE("the minimized-for-object helpers check their arguments and are no-ops with native BTF") {
  LIBBPF_OPTS(bpf_object_open_opts, opts);
  const char bytes[] = "\x7f" "ELF";
  CHECK(btfd_ensure_core_btf_for_file(nullptr, "x.o", nullptr) == -EINVAL);
  CHECK(btfd_ensure_core_btf_for_file(&opts, nullptr, nullptr) == -EINVAL);
  CHECK(btfd_ensure_core_btf_for_mem(&opts, nullptr, 4, nullptr) == -EINVAL);
  CHECK(btfd_ensure_core_btf_for_mem(&opts, bytes, 0, nullptr) == -EINVAL);
  struct btfd_core_opts small {};
  small.sz = 4;  // older than any libbtfd
  CHECK(btfd_ensure_core_btf_for_file(&opts, "x.o", &small) == -EINVAL);
  struct {
    struct btfd_core_opts known;
    int future_field;
  } newer {};
  newer.known.sz = sizeof newer;
  newer.future_field = 1;  // an option this libbtfd does not know is set
  CHECK(btfd_ensure_core_btf_for_file(&opts, "x.o", &newer.known) == -EOPNOTSUPP);
  newer.future_field = 0;  // ... and ignored when left at zero
  struct btfd_core_opts negative {};
  negative.sz = sizeof negative;
  negative.timeout_msec = -1;
  CHECK(btfd_ensure_core_btf_for_file(&opts, "x.o", &negative) == -EINVAL);

  // Nobody listens here: a helper that asked btfd would say so.
  struct btfd_core_opts nowhere {};
  nowhere.sz = sizeof nowhere;
  nowhere.socket_path = "/nonexistent/btfd.sock";
  ::unsetenv("BTFD_FORCE");
  if (::access("/sys/kernel/btf/vmlinux", R_OK) == 0) {
    CHECK(btfd_ensure_core_btf_for_file(&opts, "x.o", &nowhere) == 0);
    CHECK(btfd_ensure_core_btf_for_mem(&opts, bytes, 4, &newer.known) == 0);
    CHECK(opts.btf_custom_path == nullptr);
  } else {
    CHECK(btfd_ensure_core_btf_for_mem(&opts, bytes, 4, &nowhere) == BTFD_ERR_UNREACHABLE);
  }
  // Forced, the helper does ask; a missing object is the caller's own error.
  REQUIRE(::setenv("BTFD_FORCE", "1", 1) == 0);
  CHECK(btfd_ensure_core_btf_for_mem(&opts, bytes, 4, &nowhere) == BTFD_ERR_UNREACHABLE);
  CHECK(btfd_ensure_core_btf_for_file(&opts, "/nonexistent/x.o", &nowhere) == -ENOENT);
  CHECK(opts.btf_custom_path == nullptr);
  ::unsetenv("BTFD_FORCE");
}

TEST_CASE("btfd_strerror names every code, the client's own included") {
  for (int code = BTFD_ERR_UNREACHABLE; code >= BTFD_ERR_TIMEOUT; --code) {
    CAPTURE(code);
    std::string text = btfd_strerror(code);
    CHECK(!text.empty());
    CHECK(text != "unknown error");
  }
  CHECK(std::string(btfd_strerror(BTFD_ERR_UNREACHABLE)).find("not reachable") != std::string::npos);
  CHECK(std::string(btfd_strerror(-ENOENT)) == std::strerror(ENOENT));
  CHECK(std::string(btfd_strerror(-999999)) == "unknown error");
}
