// SPDX-License-Identifier: GPL-2.0-or-later
// Finding a release's debug files under the host root.
#include <doctest/doctest.h>
#include <unistd.h>

#include "debuginfo/debug_files.hpp"
#include "support/temp_dir.hpp"
#include "util/fd.hpp"

using namespace btfd;
using namespace btfd::debuginfo;

namespace {
void touch(const test::TempDir& root, const std::string& rel) {
  std::string p = root / rel;
  REQUIRE(mkdir_p(p.substr(0, p.rfind('/'))));
  test::write_text(p, "x");
}
}  // namespace

TEST_CASE("a kernel's debug file: Debian's /usr/lib/debug/boot first, then the modules tree") {
  test::TempDir root;
  const std::string r = "6.1.0-9-amd64";
  auto none = find_kernel_debug(root.path(), r);
  REQUIRE(none);
  CHECK_FALSE(none->path);
  REQUIRE(none->looked_in.size() == 3);
  CHECK(none->looked_in[0] == "/usr/lib/debug/boot/vmlinux-6.1.0-9-amd64");
  CHECK(none->looked_in[1] == "/usr/lib/debug/lib/modules/6.1.0-9-amd64/vmlinux");

  touch(root, "usr/lib/debug/lib/modules/" + r + "/vmlinux");
  auto rhel = find_kernel_debug(root.path(), r);
  REQUIRE(rhel);
  REQUIRE(rhel->path);
  CHECK(*rhel->path == root / ("usr/lib/debug/lib/modules/" + r + "/vmlinux"));

  touch(root, "usr/lib/debug/boot/vmlinux-" + r);
  auto deb = find_kernel_debug(root.path(), r);
  REQUIRE(deb);
  REQUIRE(deb->path);
  CHECK(*deb->path == root / ("usr/lib/debug/boot/vmlinux-" + r));
}

TEST_CASE("a directory where the file should be is not a debug file") {
  test::TempDir root;
  REQUIRE(mkdir_p(root / "usr/lib/debug/boot/vmlinux-5.10.0-1"));
  auto l = find_kernel_debug(root.path(), "5.10.0-1");
  REQUIRE(l);
  CHECK_FALSE(l->path);
}

TEST_CASE("a release that is not one path component finds nothing") {
  test::TempDir root;
  for (const char* bad : {"", "..", ".", "a/b", "../../etc/passwd", "x\ny"}) {
    auto l = find_kernel_debug(root.path(), bad);
    CHECK_FALSE(l);
    auto m = find_module_debug(root.path(), bad, "ext4");
    CHECK_FALSE(m);
  }
}

TEST_CASE("module names: [A-Za-z0-9_-], bounded; '-' and '_' are one") {
  CHECK(is_module_name("nf_tables"));
  CHECK(is_module_name("snd-hda-intel"));
  CHECK_FALSE(is_module_name(""));
  CHECK_FALSE(is_module_name("../ext4"));
  CHECK_FALSE(is_module_name("ext4.ko"));
  CHECK_FALSE(is_module_name(std::string(65, 'a')));
  CHECK(canonical_module_name("snd-hda_intel") == "snd_hda_intel");
}

TEST_CASE("a module's debug file is found in the release's tree, .ko or .ko.debug, '-' as '_'") {
  test::TempDir root;
  const std::string base = "usr/lib/debug/lib/modules/6.1.0-9-amd64/kernel/";
  touch(root, base + "fs/ext4/ext4.ko");
  touch(root, base + "sound/pci/hda/snd-hda-intel.ko.debug");
  touch(root, base + "net/netfilter/nf_tables.ko.xz");  // compressed: not read
  auto ext4 = find_module_debug(root.path(), "6.1.0-9-amd64", "ext4");
  REQUIRE(ext4);
  REQUIRE(ext4->path);
  CHECK(*ext4->path == root / (base + "fs/ext4/ext4.ko"));
  auto snd = find_module_debug(root.path(), "6.1.0-9-amd64", "snd_hda_intel");
  REQUIRE(snd);
  REQUIRE(snd->path);
  CHECK(*snd->path == root / (base + "sound/pci/hda/snd-hda-intel.ko.debug"));
  auto nft = find_module_debug(root.path(), "6.1.0-9-amd64", "nf_tables");
  REQUIRE(nft);
  CHECK_FALSE(nft->path);
  REQUIRE(nft->looked_in.size() == 1);
  CHECK(nft->looked_in[0].find("nf_tables.ko") != std::string::npos);
  auto other = find_module_debug(root.path(), "6.1.0-10-amd64", "ext4");
  REQUIRE(other);
  CHECK_FALSE(other->path);
}

TEST_CASE("the module walk follows no symlinked directory (a loop cannot hold it)") {
  test::TempDir root;
  const std::string base = root / "usr/lib/debug/lib/modules/R/kernel";
  REQUIRE(mkdir_p(base + "/a"));
  REQUIRE(::symlink("..", (base + "/a/loop").c_str()) == 0);
  REQUIRE(::symlink(root.path().c_str(), (base + "/escape").c_str()) == 0);
  touch(root, "usr/lib/debug/lib/modules/R/kernel/a/b/real.ko");
  auto l = find_module_debug(root.path(), "R", "real");
  REQUIRE(l);
  REQUIRE(l->path);
  auto none = find_module_debug(root.path(), "R", "missing");
  REQUIRE(none);
  CHECK_FALSE(none->path);
}
