// SPDX-License-Identifier: GPL-2.0-or-later
// The handlers and the interface table agree: every method the table declares
// has exactly one handler and no handler serves a method it lacks; every
// parameter a handler decodes is declared with the type it decodes, and every
// declared parameter is decoded.
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "methods/methods.hpp"
#include "proto/interface.hpp"

using namespace btfd;
namespace idl = btfd::proto::idl;

TEST_CASE("every method of the interface table has one handler, and only those") {
  std::set<std::string> declared, served;
  for (const auto* i : idl::interfaces())
    for (const auto& m : i->methods) declared.insert(std::string(i->name) + "." + m.name);
  for (const auto& m : server::methods::table()) {
    CHECK_MESSAGE(served.insert(m.name).second, "two handlers for " << m.name);
    CHECK_MESSAGE(declared.count(m.name), m.name << " is served but not in the interface table");
  }
  for (const auto& name : declared) CHECK_MESSAGE(served.count(name), name << " is declared but has no handler");
  CHECK(server::methods::handlers().size() == server::methods::table().size());
}

TEST_CASE("the parameters a handler decodes are the ones the table declares, with the same types") {
  for (const auto& m : server::methods::table()) {
    auto ref = idl::find_method(m.name);
    REQUIRE_MESSAGE(ref, m.name);
    std::map<std::string, std::string> declared;
    for (const auto& f : ref->method->in) {
      std::string type = f.type;
      if (type.starts_with('?')) type.erase(0, 1);
      // A named type (Kernel) is decoded as a JSON object the service reads.
      if (ref->iface->type(type)) type = "object";
      declared[f.name] = type;
    }
    std::map<std::string, std::string> decoded;
    for (const auto& [name, type] : m.params()) decoded[name] = type;
    CHECK_MESSAGE(decoded == declared, m.name << ": the handler decodes other parameters than the table declares");
  }
}

TEST_CASE("the clients' method names are the table's") {
  std::set<std::string> declared;
  for (const auto* i : idl::interfaces())
    for (const auto& m : i->methods) declared.insert(std::string(i->name) + "." + m.name);
  std::set<std::string> constants(std::begin(proto::method::kAll), std::end(proto::method::kAll));
  CHECK(constants == declared);
}
