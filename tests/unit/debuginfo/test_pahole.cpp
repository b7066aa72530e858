// SPDX-License-Identifier: GPL-2.0-or-later
// pahole as a bounded child: the real pahole on the test kernel, and
// stand-ins that run too long, fail, die or write too much.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "debuginfo/pahole.hpp"
#include "hub/btf_check.hpp"
#include "support/temp_dir.hpp"
#include "test_kernel.hpp"

using namespace btfd;
using namespace btfd::debuginfo;

namespace {
PaholeOptions options(const test::TempDir& dir, std::string path = "/usr/bin/pahole") {
  PaholeOptions o;
  o.path = std::move(path);
  o.tmp_dir = dir.path();
  o.wall = std::chrono::seconds(60);
  return o;
}
size_t entries(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) (void)e, ++n;
  return n;
}
}  // namespace

TEST_CASE("the real pahole turns the test kernel's DWARF into kernel BTF, leaving no temp file") {
  test::TempDir dir;
  test::build_test_kernel(dir / "vmlinux");
  size_t before = entries(dir.path());
  auto btf = run_pahole(options(dir), dir / "vmlinux");
  REQUIRE_MESSAGE(btf, btf.error().message);
  CHECK(hub::check_kernel_btf(*btf));
  CHECK(entries(dir.path()) == before);
  auto v = pahole_version(options(dir));
  REQUIRE(v);
  CHECK(v->rfind("v1.", 0) == 0);
}

TEST_CASE("a pahole that runs past its deadline is killed and named") {
  test::TempDir dir;
  auto o = options(dir, test::fake_pahole(dir, "slow", "exec sleep 30"));
  o.wall = std::chrono::seconds(1);
  auto start = std::chrono::steady_clock::now();
  auto r = run_pahole(o, "/dev/null");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::timeout);
  CHECK(r.error().message.find("PaholeSec=") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
}

TEST_CASE("a failing pahole's stderr tail is in the error, bounded") {
  test::TempDir dir;
  auto o = options(dir, test::fake_pahole(dir, "fail", "i=0; while [ $i -lt 2000 ]; do echo noise >&2; i=$((i+1)); done; "
                                                        "echo 'die: no DWARF here' >&2; exit 3"));
  o.stderr_bytes = 64;
  auto r = run_pahole(o, "/dev/null");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("exit status 3") != std::string::npos);
  CHECK(r.error().message.find("die: no DWARF here") != std::string::npos);
  CHECK(r.error().message.size() < 400);
}

TEST_CASE("a pahole over its memory limit fails by name") {
  test::TempDir dir;
  // The real pahole under an address space too small for it.
  test::build_test_kernel(dir / "vmlinux");
  auto o = options(dir);
  o.memory_bytes = 2 << 20;
  auto r = run_pahole(o, dir / "vmlinux");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("PaholeMemory=") != std::string::npos);
}

TEST_CASE("output larger than the limit stops pahole (RLIMIT_FSIZE)") {
  test::TempDir dir;
  // What pahole would do with --btf_encode_detached=PATH: write PATH.
  auto o = options(dir, test::fake_pahole(dir, "big", "out=${1#--btf_encode_detached=}; "
                                                      "exec head -c 1000000 /dev/zero > \"$out\""));
  o.max_output = 4096;
  auto r = run_pahole(o, "/dev/null");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::too_large);
}

TEST_CASE("a pahole that cannot be run is named with its key") {
  test::TempDir dir;
  auto r = run_pahole(options(dir, dir / "no-such-pahole"), "/dev/null");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("[Debuginfo] Pahole=") != std::string::npos);
}
