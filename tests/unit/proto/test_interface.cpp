// SPDX-License-Identifier: LGPL-2.1-or-later
#include <doctest/doctest.h>

#include <set>

#include "proto/errors.hpp"
#include "proto/interface.hpp"

using namespace btfd::proto;

TEST_CASE("methods are found by their full names only") {
  auto m = idl::find_method("io.btfd.GetBtf");
  REQUIRE(m);
  CHECK(std::string(m->method->name) == "GetBtf");
  CHECK(m->full_name() == "io.btfd.GetBtf");
  CHECK(idl::find_method("org.varlink.service.GetInfo"));
  CHECK_FALSE(idl::find_method("GetBtf"));
  CHECK_FALSE(idl::find_method("io.btfd.Nope"));
  CHECK_FALSE(idl::find_method("io.other.GetBtf"));
  CHECK_FALSE(idl::find_method(""));
}

TEST_CASE("every field names a type Varlink knows or the interface declares") {
  auto known = [](const idl::Interface& i, std::string type) {
    if (!type.empty() && type[0] == '?') type.erase(0, 1);
    while (type.starts_with("[]")) type.erase(0, 2);
    return type == "bool" || type == "int" || type == "string" || type == "object" || i.type(type) != nullptr;
  };
  for (const auto* i : idl::interfaces()) {
    for (const auto& t : i->types)
      for (const auto& f : t.fields) CHECK_MESSAGE(known(*i, f.type), t.name << "." << f.name << ": " << f.type);
    for (const auto& m : i->methods) {
      for (const auto& f : m.in) CHECK_MESSAGE(known(*i, f.type), m.name << "(" << f.name << "): " << f.type);
      for (const auto& f : m.out) CHECK_MESSAGE(known(*i, f.type), m.name << " -> " << f.name << ": " << f.type);
    }
  }
}

TEST_CASE("the interfaces' errors are the one error table's rows, no more, no fewer") {
  std::set<std::string> declared, table;
  for (const auto* i : idl::interfaces())
    for (const auto& e : i->errors) declared.insert(std::string(i->name) + "." + e.name);
  for (const auto& row : wire_errors()) table.insert(row.name);
  // org.varlink.service declares errors btfd never sends (Varlink's own).
  for (const auto& name : table) CHECK_MESSAGE(declared.count(name), name << " is answered but not declared");
  for (const auto& name : declared)
    if (name.rfind("io.btfd.", 0) == 0) CHECK_MESSAGE(table.count(name), name << " is declared but has no row");
}

TEST_CASE("the description of an interface declares each of its methods and errors") {
  const auto& i = idl::btfd_interface();
  std::string text = idl::describe(i);
  CHECK(text.rfind("# ", 0) == 0);
  CHECK(text.find("\ninterface io.btfd\n") != std::string::npos);
  for (const auto& m : i.methods) CHECK(text.find(std::string("\nmethod ") + m.name + "(") != std::string::npos);
  for (const auto& e : i.errors) CHECK(text.find(std::string("\nerror ") + e.name + " (") != std::string::npos);
  CHECK(text.find("type Kernel (") != std::string::npos);
}

TEST_CASE("the Go rendering lists every method and every wire error with its text") {
  std::string go = idl::go_constants();
  for (const auto* name : method::kAll) CHECK(go.find(std::string("\"") + name + "\"") != std::string::npos);
  for (const auto& row : wire_errors()) {
    CHECK(go.find(std::string("\"") + row.name + "\", " + std::to_string(row.libbtfd_code)) != std::string::npos);
    CHECK(go.find(row.summary) != std::string::npos);
  }
}
