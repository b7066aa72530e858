// SPDX-License-Identifier: GPL-2.0-or-later
// The distro table against real os-release files (tests/data/os-release): each
// host identity must name the exact path btfhub-archive keeps its kernel at.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "kernel/distro_map.hpp"
#include "kernel/identity.hpp"
#include "util/fd.hpp"

using namespace btfd;

namespace {

std::string source_file(const std::string& rel) {
  const char* root = std::getenv("BTFD_SOURCE_ROOT");
  REQUIRE_MESSAGE(root, "BTFD_SOURCE_ROOT is not set (run through meson test)");
  auto text = read_text_file(std::string(root) + "/" + rel, 1 << 20);
  REQUIRE_MESSAGE(text.ok(), rel);
  return *text;
}

// What btfd asks the hub for on a host with this os-release, machine and release.
std::string archive_path(const std::string& os_release_file, const char* machine, const char* release) {
  OsRelease os = parse_os_release(source_file("tests/data/os-release/" + os_release_file));
  auto key = DistroMap::builtin().resolve(identity_from(os, machine, release));
  REQUIRE_MESSAGE(key.ok(), os_release_file);
  CHECK(key->exact);
  return key->kernel.hub_path() + ".btf.tar.xz";
}

}  // namespace

TEST_CASE("every distro family maps its real os-release to the archive's exact path") {
  struct Row {
    const char* file;
    const char* machine;
    const char* release;
    const char* path;
  };
  // Paths as btfhub-archive lists them (the table plus one kernel per release).
  static const Row rows[] = {
      {"rhel-7.9", "x86_64", "3.10.0-1160.el7.x86_64", "rhel/7/x86_64/3.10.0-1160.el7.x86_64.btf.tar.xz"},
      {"rhel-8.4", "x86_64", "4.18.0-305.el8.x86_64", "rhel/8/x86_64/4.18.0-305.el8.x86_64.btf.tar.xz"},
      {"ol-7.9", "aarch64", "4.14.35-1902.el7uek.aarch64", "ol/7/arm64/4.14.35-1902.el7uek.aarch64.btf.tar.xz"},
      {"ol-8.4", "x86_64", "5.4.17-2102.201.3.el8uek.x86_64", "ol/8/x86_64/5.4.17-2102.201.3.el8uek.x86_64.btf.tar.xz"},
      {"centos-7", "x86_64", "3.10.0-1062.el7.x86_64", "centos/7/x86_64/3.10.0-1062.el7.x86_64.btf.tar.xz"},
      {"centos-8", "x86_64", "4.18.0-80.el8.x86_64", "centos/8/x86_64/4.18.0-80.el8.x86_64.btf.tar.xz"},
      {"amzn-2018.03", "x86_64", "4.14.106-79.86.amzn1.x86_64", "amzn/1/x86_64/4.14.106-79.86.amzn1.x86_64.btf.tar.xz"},
      {"amzn-2", "aarch64", "4.14.101-91.76.amzn2.aarch64", "amzn/2/arm64/4.14.101-91.76.amzn2.aarch64.btf.tar.xz"},
      {"sles-12.3", "x86_64", "4.4.73-5-default", "sles/12.3/x86_64/4.4.73-5-default.btf.tar.xz"},
      {"sles-15.1", "x86_64", "4.12.14-197.4-default", "sles/15.1/x86_64/4.12.14-197.4-default.btf.tar.xz"},
      {"fedora-31", "x86_64", "5.3.7-301.fc31.x86_64", "fedora/31/x86_64/5.3.7-301.fc31.x86_64.btf.tar.xz"},
      {"ubuntu-18.04", "x86_64", "4.15.0-20-generic", "ubuntu/18.04/x86_64/4.15.0-20-generic.btf.tar.xz"},
      {"ubuntu-20.04", "x86_64", "5.4.0-26-generic", "ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz"},
      {"debian-9", "x86_64", "4.9.0-11-amd64", "debian/9/x86_64/4.9.0-11-amd64.btf.tar.xz"},
      {"debian-10", "x86_64", "4.19.0-17-amd64", "debian/10/x86_64/4.19.0-17-amd64.btf.tar.xz"},
  };
  for (const Row& r : rows) {
    CAPTURE(r.file);
    CHECK(archive_path(r.file, r.machine, r.release) == r.path);
  }
}

TEST_CASE("an arm64 host identity: aarch64 from uname is the archive's arm64") {
  OsRelease os = parse_os_release(source_file("tests/data/os-release/amzn-2"));
  KernelIdentity host = identity_from(os, "aarch64", "4.14.101-91.76.amzn2.aarch64");
  CHECK(host.arch == "arm64");
  auto key = DistroMap::builtin().resolve(host);
  REQUIRE(key.ok());
  CHECK(key->kernel == KernelIdentity{"amzn", "2", "arm64", "4.14.101-91.76.amzn2.aarch64"});
  // A client that passes uname -m as it is gets the same kernel.
  auto raw = DistroMap::builtin().resolve({"amzn", "2", "aarch64", "4.14.101-91.76.amzn2.aarch64"});
  REQUIRE(raw.ok());
  CHECK(raw->kernel == key->kernel);
}

TEST_CASE("mapping is idempotent and spellings of one kernel meet in one key") {
  const DistroMap& map = DistroMap::builtin();
  auto key = [&](KernelIdentity id) {
    auto k = map.resolve(id);
    REQUIRE(k.ok());
    return k->kernel;
  };
  // debian/buster is the archive's symlink to debian/10: one kernel, one cache entry.
  CHECK(key({"debian", "buster", "x86_64", "4.19.0-17-amd64"}) == key({"debian", "10", "x86_64", "4.19.0-17-amd64"}));
  CHECK(key({"debian", "stretch", "x86_64", "r"}).distro_version == "9");
  // An archive key maps to itself: requests may name it directly.
  for (auto id : {KernelIdentity{"rhel", "8", "x86_64", "r"}, KernelIdentity{"amzn", "1", "x86_64", "r"},
                  KernelIdentity{"sles", "15.1", "x86_64", "r"}, KernelIdentity{"ubuntu", "20.04", "arm64", "r"}})
    CHECK(key(id) == id);
  CHECK(key({"amzn", "2017.09", "x86_64", "r"}).distro_version == "1");
  // A distro the table does not know is asked for verbatim.
  CHECK(key({"arch", "rolling", "x86_64", "r"}) == KernelIdentity{"arch", "rolling", "x86_64", "r"});
}

TEST_CASE("an alias serves one distro as another and marks the answer inexact") {
  DistroMap map = DistroMap::builtin();
  // Rocky's own os-release says ID_LIKE="rhel centos fedora"; that alone changes nothing.
  auto plain = map.resolve({"rocky", "8.4", "x86_64", "4.18.0-305.el8.x86_64"});
  REQUIRE(plain.ok());
  CHECK(plain->kernel.distro_id == "rocky");
  CHECK(plain->exact);
  auto site = DistroMap::parse("alias rocky rhel\n", "btfd.conf");
  REQUIRE(site.ok());
  map.overlay(*site);
  auto aliased = map.resolve({"rocky", "8.4", "x86_64", "4.18.0-305.el8.x86_64"});
  REQUIRE(aliased.ok());
  CHECK(aliased->kernel == KernelIdentity{"rhel", "8", "x86_64", "4.18.0-305.el8.x86_64"});
  CHECK_FALSE(aliased->exact);
  CHECK(map.resolve({"rhel", "8.4", "x86_64", "r"})->exact);
}

TEST_CASE("site rules come before the table's and the table is checked when read") {
  DistroMap map = DistroMap::builtin();
  auto site = DistroMap::parse("# a site keeps SLES by major release\nmap sles 15.* sles/15-all\n", "btfd.conf");
  REQUIRE(site.ok());
  map.overlay(*site);
  CHECK(map.resolve({"sles", "15.1", "x86_64", "r"})->kernel.hub_path() == "sles/15-all/x86_64/r");
  CHECK(map.resolve({"sles", "12.3", "x86_64", "r"})->kernel.hub_path() == "sles/12.3/x86_64/r");

  for (const char* bad : {"map rhel * rhel\n", "map rhel * rhel/8/x\n", "map rhel * ../{major}\n", "map rhel *\n",
                          "alias rocky\n", "frobnicate a b\n", "map rhel * rhel/{major} extra\n"}) {
    CAPTURE(bad);
    auto r = DistroMap::parse(bad, "t.conf");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("t.conf:1: ") == 0);
  }
  // A rule can never produce a path outside the archive layout.
  auto odd = DistroMap::builtin().resolve({"rhel", "..", "x86_64", "r"});
  CHECK_FALSE(odd.ok());
}

TEST_CASE("the installed distros.conf is the built-in table") {
  CHECK(source_file("common/kernel/distros.conf") == kBuiltinDistroTable);
  auto parsed = DistroMap::parse(kBuiltinDistroTable, "built-in");
  REQUIRE(parsed.ok());
  CHECK(parsed->rules().size() == DistroMap::builtin().rules().size());
  CHECK(parsed->rules().size() >= 12);
}
