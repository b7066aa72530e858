// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "server/config.hpp"

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
