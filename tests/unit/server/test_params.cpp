// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "server/params.hpp"

using namespace btfd::server;
using nlohmann::json;

static const ParamField kGetBtf[] = {{"kernel", ParamType::kernel}, {"objects", ParamType::fd_indexes},
                                     {"pin", ParamType::boolean}};

static std::string failing(const json& params) {
  auto e = check_params(params, kGetBtf);
  return e ? e->parameter : "";
}

TEST_CASE("well-typed parameters pass; null and absent are the same") {
  CHECK(failing(json::object()) == "");
  CHECK(failing(json()) == "");
  CHECK(failing({{"kernel", {{"release", "5.4.0-26-generic"}}}, {"objects", {0, 1}}, {"pin", false}}) == "");
  CHECK(failing({{"kernel", nullptr}, {"objects", nullptr}}) == "");
}

TEST_CASE("a wrong type or an unknown field names the field, nested ones with their path") {
  CHECK(failing({{"pin", "x"}}) == "pin");
  CHECK(failing({{"objects", {-1}}}) == "objects");
  CHECK(failing({{"objects", {"0"}}}) == "objects");
  CHECK(failing({{"objects", 0}}) == "objects");
  CHECK(failing({{"kernel", 5}}) == "kernel");
  CHECK(failing({{"kernel", {{"release", 7}}}}) == "kernel.release");
  CHECK(failing({{"kernel", {{"flavor", "x"}}}}) == "kernel.flavor");
  CHECK(failing({{"bogus", 1}}) == "bogus");
  CHECK(failing(json::array()) == "parameters");
  auto e = check_params({{"pin", "x"}}, kGetBtf);
  REQUIRE(e);
  CHECK(e->message == "must be a boolean");
}

TEST_CASE("a huge unknown name is cut short in the error") {
  auto e = check_params({{std::string(60000, 'A'), 1}}, kGetBtf);
  REQUIRE(e);
  CHECK(e->parameter.size() < 100);
}

TEST_CASE("accessors never throw on what the check let through") {
  json p = {{"pin", false}, {"kernel", nullptr}};
  CHECK(param_bool(p, "pin", true) == false);
  CHECK(param_bool(p, "absent", true) == true);
  CHECK(param(p, "kernel") == nullptr);
  CHECK(param(json(), "pin") == nullptr);
}
