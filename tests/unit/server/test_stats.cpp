// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <fstream>

#include "server/stats.hpp"
#include "support/temp_dir.hpp"

using namespace btfd::server;

TEST_CASE("counters saved and loaded add up to what was counted") {
  btfd::test::TempDir tmp;
  std::string path = tmp / "stats.json";
  Stats a;
  a.request("io.btfd.GetBtf", "ok", 0.0002);
  a.request("io.btfd.GetBtf", "not_in_hub", 2.0);
  a.hits += 3;
  a.hub_fetches += 1;
  a.dropped_clients += 2;
  REQUIRE(a.save(path).ok());
  Stats b;
  b.hits += 1;
  REQUIRE(b.load(path).ok());
  auto j = b.to_json();
  CHECK(j["cache"]["hits"] == 4);
  CHECK(j["sources"]["hub"] == 1);
  CHECK(j["limits"]["dropped_clients"] == 2);
  CHECK(j["requests"]["io.btfd.GetBtf"]["ok"] == 1);
  CHECK(j["requests"]["io.btfd.GetBtf"]["not_in_hub"] == 1);
  CHECK(j["latency_seconds"]["count"] == 2);
}

TEST_CASE("a missing file is a fresh start; a damaged one is an error and counts nothing") {
  btfd::test::TempDir tmp;
  Stats s;
  CHECK(s.load(tmp / "absent.json").ok());
  std::ofstream(tmp / "bad.json") << "{not json";
  CHECK_FALSE(s.load(tmp / "bad.json").ok());
  // Keys that btfd never writes (a hand-edited or tampered file) are ignored.
  std::ofstream(tmp / "odd.json") << R"({"requests": {"io.btfd.X\"} 1\nfake_metric": {"ok": 5}, "io.btfd.Status": {"ok": "x"}}})";
  REQUIRE(s.load(tmp / "odd.json").ok());
  CHECK(s.to_json()["requests"].empty());
  CHECK(s.to_json()["cache"]["hits"] == 0);
}
