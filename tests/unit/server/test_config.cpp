// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <cstdlib>

#include "server/config.hpp"
#include "util/fd.hpp"
#include "support/temp_dir.hpp"

using namespace btfd;
using namespace btfd::server;

TEST_CASE("sizes take K/M/G/T suffixes and reject junk") {
  CHECK(*parse_size("4096") == 4096);
  CHECK(*parse_size("64M") == 64ull << 20);
  CHECK(*parse_size(" 1G ") == 1ull << 30);
  CHECK_FALSE(parse_size("12X").ok());
  CHECK_FALSE(parse_size("").ok());
  CHECK_FALSE(parse_size("99999999999999999999").ok());
}

TEST_CASE("a configuration file sets every section's keys") {
  Config c = default_config();
  auto st = apply_config_text(c,
                              "# comment\n[Daemon]\nIdleExitSec=0\nWorkers = 2\n; other comment\n"
                              "[Cache]\nDirectory=/srv/btfd\nMaxSize=2G\n"
                              "[Hub]\nMirrors=https://a.example/x  file:///srv/hub\nTimeoutMSec=1000\nVerifyChecksums=no\n"
                              "[Limits]\nMaxObjectSize=1M\n[Access]\nAllowGroup=adm\n"
                              "[Upgrade]\nObjectWindowDays=7\nRetrySec=2\nModuleDirectories=/lib/modules\n",
                              "test.conf");
  REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message));
  CHECK(c.idle_exit_sec == 0);
  CHECK(c.workers == 2);
  CHECK(c.cache_dir == "/srv/btfd");
  CHECK(c.cache_budget == 2ull << 30);
  REQUIRE(c.mirrors.size() == 2);
  CHECK(c.mirrors[1] == "file:///srv/hub");
  CHECK(c.timeout_ms == 1000);
  CHECK(c.max_object_size == 1ull << 20);
  CHECK(c.allow_group == "adm");
  CHECK(c.object_window_days == 7);
  CHECK(c.prefetch_retry_sec == 2);
  CHECK_FALSE(c.verify_checksums);
  CHECK(c.module_dirs == std::vector<std::string>{"/lib/modules"});
}

TEST_CASE("configuration errors name the file, the line and the key") {
  Config c = default_config();
  auto unknown = apply_config_text(c, "[Daemon]\nIdleExit=3\n", "x.conf");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message.find("x.conf:2") != std::string::npos);
  CHECK(unknown.error().message.find("Daemon.IdleExit") != std::string::npos);
  auto bad = apply_config_text(c, "[Daemon]\nWorkers=0\n", "x.conf");
  CHECK_FALSE(bad.ok());
  auto nokey = apply_config_text(c, "[Daemon]\njunk\n", "x.conf");
  CHECK_FALSE(nokey.ok());
  CHECK_FALSE(apply_config_text(c, "[Hub]\nVerifyChecksums=maybe\n", "x.conf").ok());
  auto nosection = apply_config_text(c, "Workers=2\n", "x.conf");
  CHECK_FALSE(nosection.ok());  // keys outside a section are unknown
}

TEST_CASE("the default mirrors are both maintained archives, in order, and pass start-up checks offline") {
  // The shipped default (meson_options.txt; a build directory keeps the value
  // it was set up with, so the source is what is checked).
  const char* root = std::getenv("BTFD_SOURCE_ROOT");
  REQUIRE(root);
  auto options = read_text_file(std::string(root) + "/meson_options.txt", 1 << 20);
  REQUIRE(options.ok());
  const std::string aqua = "https://raw.githubusercontent.com/aquasecurity/btfhub-archive/main";
  const std::string datadog = "https://raw.githubusercontent.com/DataDog/btfhub-archive/main";
  CHECK(options->find("'" + aqua + " " + datadog + "'") != std::string::npos);
  // The configured value is a space-separated list.
  Config c = default_config();
  CHECK(c.mirrors.size() >= 1);
  for (const auto& m : c.mirrors) CHECK(m.find(' ') == std::string::npos);
  Config two = default_config();
  REQUIRE(apply_config_text(two, "[Hub]\nMirrors=" + aqua + " " + datadog + "\n", "x.conf").ok());
  CHECK(two.mirrors == std::vector<std::string>{aqua, datadog});
  c.distro_table.clear();  // this build's install location is not this test's business
  CHECK(finish_config(c).ok());
  CHECK(c.negative_ttl_sec == 3600);
}

TEST_CASE("start-up refuses an unsupported scheme and a missing mirror directory") {
  test::TempDir dir;
  for (const char* text : {"[Hub]\nMirrors=ftp://mirror.example.com/hub\n", "[Hub]\nMirrors=htps://typo.example.com\n",
                           "[Hub]\nMirrors=/nonexistent/btfhub\n", "[Hub]\nMirrors=file:///nonexistent/btfhub\n"}) {
    CAPTURE(text);
    Config c = default_config();
    c.distro_table.clear();
    REQUIRE(apply_config_text(c, text, "x.conf").ok());
    auto st = finish_config(c);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.find("mirror \"") == 0);
  }
  Config ok = default_config();
  ok.distro_table.clear();
  REQUIRE(apply_config_text(ok, "[Hub]\nMirrors=" + dir.path() + " http://127.0.0.1:1/hub\n", "x.conf").ok());
  CHECK(finish_config(ok).ok());
}

TEST_CASE("[Distro]: a table file, then Map= and Alias= lines on top") {
  test::TempDir dir;
  test::write_text(dir / "distros.conf", "map rhel * rhel/{major}\nmap ubuntu * ubuntu/{version}\n");
  Config c = default_config();
  auto st = apply_config_text(c,
                              "[Distro]\nTable=" + (dir / "distros.conf") +
                                  "\nAlias=rocky rhel\nAlias=almalinux rhel\nMap=sles 15.* sles/15-all\n",
                              "x.conf");
  REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message));
  REQUIRE(finish_config(c).ok());
  auto rocky = c.distros.resolve({"rocky", "8.4", "x86_64", "r"});
  REQUIRE(rocky.ok());
  CHECK(rocky->kernel.hub_path() == "rhel/8/x86_64/r");
  CHECK_FALSE(rocky->exact);
  CHECK(c.distros.resolve({"almalinux", "8.5", "x86_64", "r"})->kernel.hub_path() == "rhel/8/x86_64/r");
  CHECK(c.distros.resolve({"sles", "15.1", "x86_64", "r"})->kernel.hub_path() == "sles/15-all/x86_64/r");
  // The file replaced the built-in table: it has no amzn rule, so amzn is verbatim.
  CHECK(c.distros.resolve({"amzn", "2018.03", "x86_64", "r"})->kernel.hub_path() == "amzn/2018.03/x86_64/r");

  // Without the file (the default location, not installed): the built-in table.
  Config d = default_config();
  d.distro_table = dir / "not-installed.conf";
  REQUIRE(finish_config(d).ok());
  CHECK(d.distros.resolve({"amzn", "2018.03", "x86_64", "r"})->kernel.hub_path() == "amzn/1/x86_64/r");

  // A table named in btfd.conf must exist; a malformed line names the file and line.
  Config e = default_config();
  REQUIRE(apply_config_text(e, "[Distro]\nTable=" + (dir / "missing.conf") + "\n", "x.conf").ok());
  CHECK_FALSE(finish_config(e).ok());
  CHECK_FALSE(apply_config_text(e, "[Distro]\nAlias=rocky\n", "x.conf").ok());
  CHECK_FALSE(apply_config_text(e, "[Distro]\nMap=rhel * rhel\n", "x.conf").ok());
  test::write_text(dir / "bad.conf", "map rhel *\n");
  Config f = default_config();
  f.distro_table = dir / "bad.conf";
  auto bad = finish_config(f);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("bad.conf:1") != std::string::npos);
}
