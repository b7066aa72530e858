// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <fstream>

#include "service/stats.hpp"
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

TEST_CASE("the server's metrics keep their type and help, per mirror labels escaped") {
  Stats s;
  nlohmann::json extra = {
      {"btfd_mirror_requests_total",
       {{"type", "counter"}, {"help", "Requests sent to the mirror."}, {"value", {{"https://m.example/a\"b", 18}}}}},
      {"btfd_calls", {{"type", "gauge"}, {"help", "Calls queued or running."}, {"value", 3}}}};
  std::string text = s.to_prometheus(extra);
  CHECK(text.find("# HELP btfd_mirror_requests_total Requests sent to the mirror.\n"
                  "# TYPE btfd_mirror_requests_total counter\n"
                  "btfd_mirror_requests_total{mirror=\"https://m.example/a\\\"b\"} 18\n") != std::string::npos);
  CHECK(text.find("# TYPE btfd_calls gauge\nbtfd_calls 3\n") != std::string::npos);
  CHECK(text.find("# HELP btfd_calls Calls queued or running.\n") != std::string::npos);
}
