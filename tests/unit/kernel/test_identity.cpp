// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>
#include <sys/utsname.h>

#include "kernel/identity.hpp"
#include "support/temp_dir.hpp"
#include "util/fd.hpp"

using namespace btfd;

TEST_CASE("os-release parsing handles quotes, comments and escapes") {
  auto o = parse_os_release(
      "# comment\nNAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"20.04\"\n  \nBAD LINE\n");
  CHECK(o.id == "ubuntu");
  CHECK(o.version_id == "20.04");
  auto q = parse_os_release("ID='centos'\r\nVERSION_ID=\"8\\\"x\"\n");
  CHECK(q.id == "centos");
  CHECK(q.version_id == "8\"x");
}

TEST_CASE("arch names map to the archive's directory names") {
  CHECK(archive_arch("aarch64") == "arm64");
  CHECK(archive_arch("x86_64") == "x86_64");
  CHECK(archive_arch("s390x") == "s390x");
}

TEST_CASE("identity validation refuses path tricks") {
  KernelIdentity good{"ubuntu", "20.04", "x86_64", "5.4.0-26-generic"};
  CHECK(validate_identity(good).ok());
  CHECK(good.hub_path() == "ubuntu/20.04/x86_64/5.4.0-26-generic");
  for (auto bad : {KernelIdentity{"..", "1", "x86_64", "r"}, KernelIdentity{"a/b", "1", "x86_64", "r"},
                   KernelIdentity{"a", "", "x86_64", "r"}, KernelIdentity{"a", "1", "x86_64", "r\n"},
                   KernelIdentity{"a", "1", "x86_64", std::string(200, 'r')}}) {
    CHECK_FALSE(validate_identity(bad).ok());
  }
}

TEST_CASE("detect_host takes distro and version from the host root's os-release, release and arch from uname, and finds native BTF there") {
  test::TempDir root;
  REQUIRE(mkdir_p(root / "etc").ok());
  test::write_text(root / "etc/os-release", "ID=ubuntu\nVERSION_ID=\"20.04\"\n");
  auto h = detect_host(root.path());
  REQUIRE(h.ok());
  struct utsname u {};
  uname(&u);
  CHECK(h->identity.distro_id == "ubuntu");
  CHECK(h->identity.distro_version == "20.04");
  CHECK(h->identity.release == u.release);
  // The archive's directory for this machine, spelled out here (not computed by
  // archive_arch, which is what is being checked): arm64 for aarch64, else uname's.
  const std::string machine = u.machine;
  CHECK(h->identity.arch == (machine == "aarch64" ? std::string("arm64") : machine));
  CHECK(h->native_btf_path.empty());  // the fake root has no sys/kernel/btf/vmlinux

  REQUIRE(mkdir_p(root / "sys/kernel/btf").ok());
  test::write_text(root / "sys/kernel/btf/vmlinux", "x");
  auto h2 = detect_host(root.path());
  REQUIRE(h2.ok());
  CHECK(h2->native_btf_path == root / "sys/kernel/btf/vmlinux");
}

TEST_CASE("detect_host falls back to usr/lib/os-release, names os-release when both are missing, and says rolling without VERSION_ID") {
  test::TempDir root;
  auto none = detect_host(root.path());
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message.find("os-release") != std::string::npos);
  REQUIRE(mkdir_p(root / "usr/lib").ok());
  test::write_text(root / "usr/lib/os-release", "ID=arch\n");
  auto h = detect_host(root.path());
  REQUIRE(h.ok());
  CHECK(h->identity.distro_id == "arch");
  CHECK(h->identity.distro_version == "rolling");
}
