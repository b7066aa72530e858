// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>
#include <sstream>

#include "config/config.hpp"
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

namespace {
bool keys_known(const std::string& name) {
  auto all = config_key_names();
  return std::find(all.begin(), all.end(), name) != all.end();
}
// The shipped /etc/btfd/btfd.conf as meson generated it for this build.
std::string shipped_config() {
  auto text = read_text_file(test::build_root() + "/systemd/btfd.conf");
  REQUIRE_MESSAGE(text.ok(), "the generated btfd.conf is missing");
  return *text;
}
}  // namespace

TEST_CASE("the shipped btfd.conf names every key, and uncommented it is exactly the defaults") {
  const std::string text = shipped_config();
  Config as_shipped = default_config();
  REQUIRE(apply_config_text(as_shipped, text, "btfd.conf").ok());
  CHECK(dump_config(as_shipped) == dump_config(default_config()));

  // "#Key=value" lines under a section are the keys; every other comment is prose.
  std::string uncommented, section;
  std::set<std::string> named;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("[")) section = line.substr(1, line.find(']') - 1);
    size_t eq = line.find('=');
    bool key_line = line.size() > 2 && line[0] == '#' && std::isupper(static_cast<unsigned char>(line[1])) &&
                    eq != std::string::npos && line.find(' ') > eq;
    if (key_line) {
      named.insert(section + "." + line.substr(1, eq - 1));
      line = line.substr(1);
    }
    uncommented += line + "\n";
  }
  std::string missing, unknown;
  for (const auto& k : config_key_names())
    if (!named.count(k)) missing += " " + k;
  for (const auto& k : named)
    if (!keys_known(k)) unknown += " " + k;
  CHECK_MESSAGE(missing.empty(), "keys btfd knows but the shipped btfd.conf lacks:" << missing);
  CHECK_MESSAGE(unknown.empty(), "keys in the shipped btfd.conf that btfd does not know:" << unknown);
  Config c = default_config();
  auto st = apply_config_text(c, uncommented, "btfd.conf (uncommented)");
  REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message));
  CHECK(c.origins.count("Limits.MaxCalls") == 1);  // the file set it
  c.origins.clear();  // the values, not where they came from
  CHECK(dump_config(c) == dump_config(default_config()));
}

TEST_CASE("sizes read systemd's spellings and are written back exactly") {
  CHECK(*parse_size("1GiB") == 1ull << 30);
  CHECK(*parse_size("512M") == 512ull << 20);
  CHECK(*parse_size("512MiB") == 512ull << 20);
  CHECK(*parse_size("3K") == 3072);
  CHECK(*parse_size("100B") == 100);
  auto bad = parse_size("1GB");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("\"1GB\" is not a size") != std::string::npos);
  CHECK_FALSE(parse_size("G").ok());
  CHECK_FALSE(parse_size("17179869184T").ok());
  for (uint64_t v : {0ull, 1ull, 1023ull, 1024ull, 1536ull, 64ull << 20, 1ull << 30, 3ull << 40})
    CHECK(*parse_size(format_size(v)) == v);
  CHECK(format_size(1ull << 30) == "1G");
}

TEST_CASE("a bad value names file:line, the key and what is allowed") {
  Config c = default_config();
  auto level = apply_config_text(c, "[Daemon]\n\nLogLevel=loud\n", "/etc/btfd/btfd.conf");
  REQUIRE_FALSE(level.ok());
  CHECK(level.error().message ==
        "/etc/btfd/btfd.conf:3: Daemon.LogLevel: \"loud\" is not one of error, warning, notice, info, debug");
  auto workers = apply_config_text(c, "[Daemon]\nWorkers=70000\n", "x.conf");
  REQUIRE_FALSE(workers.ok());
  CHECK(workers.error().message == "x.conf:2: Daemon.Workers: 70000 is out of range (1 to 65536)");
  auto flag = apply_config_text(c, "[Hub]\nVerifyChecksums=maybe\n", "x.conf");
  REQUIRE_FALSE(flag.ok());
  CHECK(flag.error().message == "x.conf:2: Hub.VerifyChecksums: \"maybe\" is not yes or no");
  // The total of unread replies must hold the largest reply, twice.
  auto replies = apply_config_text(c, "[Limits]\nMaxQueuedReplyBytes=16M\n", "x.conf");
  REQUIRE_FALSE(replies.ok());
  CHECK(replies.error().message ==
        "x.conf:2: Limits.MaxQueuedReplyBytes: 16M is below the minimum 32M (two of the largest replies)");
  CHECK(apply_config_text(c, "[Limits]\nMaxQueuedReplyBytes=32M\n", "x.conf").ok());
}

TEST_CASE("drop-ins in FILE.d apply in name order on top of the file") {
  test::TempDir dir;
  const std::string conf = dir / "btfd.conf";
  test::write_text(conf, "[Daemon]\nWorkers=2\nIdleExitSec=10\n");
  REQUIRE(::mkdir((conf + ".d").c_str(), 0755) == 0);
  test::write_text(conf + ".d/20-late.conf", "[Daemon]\nWorkers=5\n");
  test::write_text(conf + ".d/10-early.conf", "[Daemon]\nWorkers=3\n[Cache]\nMaxSize=2GiB\n");
  test::write_text(conf + ".d/30-ignored.txt", "not a drop-in\n");
  Config c = default_config();
  REQUIRE(load_config_files(c, conf, true).ok());
  CHECK(c.workers == 5);
  CHECK(c.idle_exit_sec == 10);
  CHECK(c.cache_budget == 2ull << 30);

  // Drop-ins apply even without the main file (a site that never edits it).
  test::TempDir other;
  REQUIRE(::mkdir((other / "btfd.conf.d").c_str(), 0755) == 0);
  test::write_text(other / "btfd.conf.d/site.conf", "[Daemon]\nWorkers=7\n");
  Config d = default_config();
  REQUIRE(load_config_files(d, other / "btfd.conf", false).ok());
  CHECK(d.workers == 7);
  CHECK_FALSE(load_config_files(d, other / "btfd.conf", true).ok());

  // A bad drop-in is named with its line.
  test::write_text(conf + ".d/40-bad.conf", "[Daemon]\nWorkers=zero\n");
  auto bad = load_config_files(c, conf, true);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.starts_with(conf + ".d/40-bad.conf:2: Daemon.Workers:"));
}

TEST_CASE("an empty assignment resets a repeatable key") {
  Config c = default_config();
  REQUIRE(apply_config_text(c, "[Distro]\nAlias=rocky rhel\nAlias=alma rhel\nMap=foo * bar/1\n", "a.conf").ok());
  CHECK(c.distro_lines.size() == 3);
  REQUIRE(apply_config_text(c, "[Distro]\nAlias=\n", "b.conf").ok());
  REQUIRE(c.distro_lines.size() == 1);
  CHECK(c.distro_lines[0] == "map foo * bar/1");
}

TEST_CASE("under the unit, a local mirror the sandbox hides is refused with the reason") {
  const std::string hides = "/tmp:PrivateTmp=yes /home:ProtectHome=yes";
  auto tmp = check_mirror_visible("file:///tmp/hub", hides);
  REQUIRE_FALSE(tmp.ok());
  CHECK(tmp.error().message.find("is under /tmp, which btfd.service hides (PrivateTmp=yes)") != std::string::npos);
  auto home = check_mirror_visible("/home/alice/btfhub", hides);
  REQUIRE_FALSE(home.ok());
  CHECK(home.error().message.find("ProtectHome=yes") != std::string::npos);
  CHECK(check_mirror_visible("/srv/btfhub", hides).ok());
  CHECK(check_mirror_visible("/tmpfoo/hub", hides).ok());  // a prefix of a name is not the directory
  CHECK(check_mirror_visible("https://example.org/tmp/hub", hides).ok());
}

namespace {
Result<bool> run_flags(Config& c, std::vector<std::string> args, int* exit_code) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return apply_flags(c, static_cast<int>(args.size()), argv.data(), exit_code);
}
}  // namespace

TEST_CASE("--help and --version answer even when the configuration is broken") {
  test::TempDir dir;
  test::write_text(dir / "broken.conf", "[Daemon]\nWorkers=lots\n");
  for (const char* flag : {"--version", "--help", "-h"}) {
    Config c = default_config();
    int exit_code = -1;
    auto go = run_flags(c, {"btfd", "--config", dir / "broken.conf", flag}, &exit_code);
    REQUIRE_MESSAGE(go.ok(), flag);
    CHECK_FALSE(*go);
    CHECK(exit_code == 0);
  }
  Config c = default_config();
  int exit_code = -1;
  auto go = run_flags(c, {"btfd", "--config", dir / "broken.conf", "--socket", dir / "s"}, &exit_code);
  REQUIRE_FALSE(go.ok());
  CHECK(go.error().message == dir / "broken.conf" + ":2: Daemon.Workers: \"lots\" is not a number");
}

TEST_CASE("under the unit (BTFD_UNIT_HIDES set) a mirror in /tmp stops btfd at start-up; by hand it is fine") {
  test::TempDir dir;  // under /tmp (or TMPDIR)
  test::write_text(dir / "empty.conf", "");
  const std::string mirror = "file://" + dir.path();
  Config by_hand = default_config();
  int exit_code = -1;
  REQUIRE(::unsetenv("BTFD_UNIT_HIDES") == 0);
  auto ok = run_flags(by_hand, {"btfd", "--config", dir / "empty.conf", "--mirror", mirror}, &exit_code);
  REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().message));
  std::string top = dir.path().substr(0, dir.path().find('/', 1));  // "/tmp"
  REQUIRE(::setenv("BTFD_UNIT_HIDES", (top + ":PrivateTmp=yes").c_str(), 1) == 0);
  Config unit = default_config();
  auto refused = run_flags(unit, {"btfd", "--config", dir / "empty.conf", "--mirror", mirror}, &exit_code);
  ::unsetenv("BTFD_UNIT_HIDES");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("which btfd.service hides (PrivateTmp=yes)") != std::string::npos);
}

TEST_CASE("an unknown key names the nearest one, also one under another section") {
  Config c = default_config();
  auto st = apply_config_text(c, "[Limits]\nMaxConection=5\n", "t.conf");
  REQUIRE_FALSE(st);
  CHECK(st.error().message == "t.conf:2: unknown key \"Limits.MaxConection\" (did you mean MaxConnections= in [Limits]?)");
  st = apply_config_text(c, "[Hub]\nMaxCalls=5\n", "t.conf");
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find("(did you mean MaxCalls= in [Limits]?)") != std::string::npos);
  st = apply_config_text(c, "[Limits]\nFrobnicateEverything=1\n", "t.conf");
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find("did you mean") == std::string::npos);  // nothing near: no guess
}

TEST_CASE("--dump-config says which file and line set a key") {
  Config c = default_config();
  REQUIRE(apply_config_text(c, "# sites\n[Limits]\nMaxCalls=5\n", "/etc/btfd/btfd.conf.d/50-site.conf"));
  std::string dump = dump_config(c);
  CHECK(dump.find("# set by /etc/btfd/btfd.conf.d/50-site.conf:3\nMaxCalls=5\n") != std::string::npos);
  CHECK(dump.find("# set by", dump.find("MaxCalls=5")) == std::string::npos);  // the rest are defaults
}

TEST_CASE("each flag sets its key and is named as its origin; a list flag's first use replaces the configured list") {
  test::TempDir dir;
  test::write_text(dir / "site.conf", "[Hub]\nMirrors=https://configured.example\n[Upgrade]\nModuleDirectories=/configured\n");
  ::unsetenv("BTFD_UNIT_HIDES");
  const std::string a = dir / "a", b = dir / "b with space";
  REQUIRE(mkdir_p(a));
  REQUIRE(mkdir_p(b));
  // Twice in one process: the second call replaces the configured lists as the first did.
  for (int round = 0; round < 2; ++round) {
    Config c = default_config();
    int exit_code = -1;
    auto go = run_flags(c, {"btfd", "--config", dir / "site.conf", "--mirror", a, "--workers", "3", "--mirror", b,
                            "--modules-dir", "/m1", "--cache-budget=64M", "--modules-dir", "/m2", "--socket", dir / "s",
                            "--boot-dir", "/b", "--admin-socket", dir / "admin"},
                        &exit_code);
    REQUIRE_MESSAGE(go.ok(), (go.ok() ? "" : go.error().message));
    CHECK(*go);
    CHECK(c.mirrors == std::vector<std::string>{a, b});
    CHECK(c.module_dirs == std::vector<std::string>{"/m1", "/m2"});
    CHECK(c.workers == 3);
    CHECK(c.cache_budget == 64ull << 20);
    CHECK(c.socket_path == dir / "s");
    CHECK(c.origins["Hub.Mirrors"] == "--mirror");
    CHECK(c.origins["Upgrade.ModuleDirectories"] == "--modules-dir");
    CHECK(c.origins["Daemon.Workers"] == "--workers");
    CHECK(c.origins["Cache.MaxSize"] == "--cache-budget");
    CHECK(c.origins["Daemon.Socket"] == "--socket");
    // Flags after --log-level were named by their neighbours before (the enum
    // and the option array were in different orders).
    CHECK(c.boot_dir == "/b");
    CHECK(c.admin_socket == dir / "admin");
    CHECK(c.origins["Upgrade.BootDirectory"] == "--boot-dir");
    CHECK(c.origins["Daemon.AdminSocket"] == "--admin-socket");
  }
  // A flag's value is checked as the key's, and the error names the flag.
  Config c = default_config();
  int exit_code = -1;
  auto bad = run_flags(c, {"btfd", "--config", dir / "site.conf", "--workers", "0"}, &exit_code);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.rfind("--workers: ", 0) == 0);
  // An unknown flag and a missing value stop btfd with exit code 2.
  for (const char* wrong : {"--no-such-flag", "--socket"}) {
    Config d = default_config();
    exit_code = -1;
    auto stop = run_flags(d, {"btfd", "--config", dir / "site.conf", wrong}, &exit_code);
    REQUIRE_MESSAGE(stop.ok(), wrong);
    CHECK_FALSE(*stop);
    CHECK(exit_code == 2);
  }
}
