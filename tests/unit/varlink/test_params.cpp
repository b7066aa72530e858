// SPDX-License-Identifier: GPL-2.0-or-later
// Parameters are checked against the interface table (proto/interface.cpp)
// and decoded by a method's bindings.
#include <doctest/doctest.h>

#include "proto/interface.hpp"
#include "varlink/params.hpp"

using namespace btfd::server;
using nlohmann::json;
namespace idl = btfd::proto::idl;

static std::optional<ParamError> check(const char* method, const json& params) {
  auto ref = idl::find_method(method);
  REQUIRE(ref);
  return check_params(params, *ref->method, *ref->iface);
}

static std::string failing(const json& params) {
  auto e = check("io.btfd.GetBtf", params);
  return e ? e->parameter : "";
}

TEST_CASE("well-typed parameters pass; null and absent are the same") {
  CHECK(failing(json::object()) == "");
  CHECK(failing(json()) == "");
  CHECK(failing({{"kernel", {{"release", "5.4.0-26-generic"}}}, {"objects", {0, 1}}, {"refresh", false}}) == "");
  CHECK(failing({{"kernel", nullptr}, {"objects", nullptr}}) == "");
  CHECK(failing({{"names", {"a.bpf.o"}}, {"objects", {0}}}) == "");
}

TEST_CASE("a wrong type or an unknown field names the field, nested ones with their path") {
  CHECK(failing({{"refresh", "x"}}) == "refresh");
  CHECK(failing({{"objects", {-1}}}) == "objects");
  CHECK(failing({{"objects", {"0"}}}) == "objects");
  CHECK(failing({{"objects", 0}}) == "objects");
  CHECK(failing({{"names", {1}}}) == "names");
  CHECK(failing({{"kernel", 5}}) == "kernel");
  CHECK(failing({{"kernel", {{"release", 7}}}}) == "kernel.release");
  CHECK(failing({{"kernel", {{"flavor", "x"}}}}) == "kernel.flavor");
  CHECK(failing({{"bogus", 1}}) == "bogus");
  CHECK(failing(json::array()) == "parameters");
  auto e = check("io.btfd.GetBtf", {{"refresh", "x"}});
  REQUIRE(e);
  CHECK(e->message == "must be a boolean");
  e = check("io.btfd.GetBtf", {{"objects", {-1}}});
  REQUIRE(e);
  CHECK(e->message == "must be an array of non-negative integers");
  e = check("io.btfd.GetBtf", {{"kernel", 5}});
  REQUIRE(e);
  CHECK(e->message == "must be an object {distro, version, arch, release}");
}

TEST_CASE("a required parameter that is missing or null is named") {
  auto e = check("io.btfd.ImportBundle", json::object());
  REQUIRE(e);
  CHECK(e->parameter == "bundle");
  CHECK(e->message == "missing");
  e = check("org.varlink.service.GetInterfaceDescription", {{"interface", nullptr}});
  REQUIRE(e);
  CHECK(e->parameter == "interface");
  CHECK_FALSE(check("io.btfd.ImportBundle", {{"bundle", 0}}));
  CHECK(check("io.btfd.ImportBundle", {{"bundle", -3}})->message == "must be a non-negative integer");
}

TEST_CASE("a huge unknown name is cut short in the error") {
  auto e = check("io.btfd.GetBtf", {{std::string(60000, 'A'), 1}});
  REQUIRE(e);
  CHECK(e->parameter.size() < 100);
}

namespace {
struct Sample {
  bool flag = true;
  std::string text = "default";
  uint64_t index = 7;
  std::vector<uint64_t> indexes;
  std::vector<std::string> texts;
  json object;
};
const Binding<Sample> kSample[] = {bind<&Sample::flag>("flag"),       bind<&Sample::text>("text"),
                                   bind<&Sample::index>("index"),     bind<&Sample::indexes>("indexes"),
                                   bind<&Sample::texts>("texts"),     bind<&Sample::object>("object")};
}  // namespace

TEST_CASE("decoding fills the bound members and keeps the defaults of absent or null fields") {
  Sample d = decode<Sample>(json{{"text", nullptr}}, kSample);
  CHECK(d.flag);
  CHECK(d.text == "default");
  CHECK(d.index == 7);
  Sample s = decode<Sample>(json{{"flag", false}, {"text", "x"}, {"index", 3}, {"indexes", {1, 2}},
                                 {"texts", {"a"}}, {"object", {{"k", 1}}}},
                            kSample);
  CHECK_FALSE(s.flag);
  CHECK(s.text == "x");
  CHECK(s.index == 3);
  CHECK(s.indexes == std::vector<uint64_t>{1, 2});
  CHECK(s.texts == std::vector<std::string>{"a"});
  CHECK(s.object["k"] == 1);
  auto types = binding_types<Sample>(kSample);
  REQUIRE(types.size() == 6);
  CHECK(types[0].second == "bool");
  CHECK(types[3].second == "[]int");
  CHECK(types[4].second == "[]string");
  CHECK(types[5].second == "object");
}
