// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once
// The io.btfd interface, written once as data: its types, methods (with who
// may call them) and errors, each field with its Varlink type and its
// documentation. From this table come btfd's parameter checks, the text
// GetInterfaceDescription answers, docs/io.btfd.varlink, the method and
// error lists of docs/protocol.md and the Go client's constants
// (interface_render.cpp, the btfd-interface tool; a test fails on any drift).
// systemd's varlink-io.systemd.*.c tables are the model.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace btfd::proto::idl {

enum class Access { anyone, privileged };

struct Field {
  const char* name;
  const char* type;  // Varlink syntax: "?" optional, "[]" array, bool/int/string/object or a type's name
  const char* doc;   // lines joined by '\n'; "" for none
};

struct Type {
  const char* name;
  const char* doc;
  std::vector<Field> fields;
};

struct Method {
  const char* name;  // without the interface: "GetBtf"
  const char* doc;
  Access access;
  std::vector<Field> in;
  std::vector<Field> out;
};

struct ErrorDef {
  const char* name;  // without the interface: "KernelNotInHub"
  const char* doc;
  std::vector<Field> fields;
};

struct Interface {
  const char* name;  // "io.btfd"
  const char* doc;
  std::vector<Type> types;
  std::vector<Method> methods;
  std::vector<ErrorDef> errors;

  const Type* type(std::string_view name) const;
  const Method* method(std::string_view name) const;
};

const Interface& btfd_interface();
const Interface& service_interface();  // org.varlink.service
// Both, in the order GetInfo names them.
const std::vector<const Interface*>& interfaces();

struct MethodRef {
  const Interface* iface;
  const Method* method;
  std::string full_name() const { return std::string(iface->name) + "." + method->name; }
};
// A method by its full name ("io.btfd.GetBtf"), or nullopt.
std::optional<MethodRef> find_method(std::string_view full_name);
// The interface with this name, or nullptr.
const Interface* find_interface(std::string_view name);

// Renderings (interface_render.cpp).
std::string describe(const Interface& i);  // the Varlink IDL text
std::string markdown_methods();            // docs/protocol.md's method table
std::string go_constants();                // clients/go/btfd/interface_gen.go

}  // namespace btfd::proto::idl

// Method names for clients (btfctl, libbtfd, benchmarks): a unit test holds
// them to the table above.
namespace btfd::proto::method {
inline constexpr const char* kGetInfo = "org.varlink.service.GetInfo";
inline constexpr const char* kGetInterfaceDescription = "org.varlink.service.GetInterfaceDescription";
inline constexpr const char* kGetBtf = "io.btfd.GetBtf";
inline constexpr const char* kListKernels = "io.btfd.ListKernels";
inline constexpr const char* kPrefetch = "io.btfd.Prefetch";
inline constexpr const char* kStatus = "io.btfd.Status";
inline constexpr const char* kStats = "io.btfd.Stats";
inline constexpr const char* kRefresh = "io.btfd.Refresh";
inline constexpr const char* kGarbageCollect = "io.btfd.GarbageCollect";
inline constexpr const char* kVerify = "io.btfd.Verify";
inline constexpr const char* kImportBundle = "io.btfd.ImportBundle";
inline constexpr const char* kAll[] = {kGetInfo, kGetInterfaceDescription, kGetBtf, kListKernels, kPrefetch, kStatus,
                                       kStats, kRefresh, kGarbageCollect, kVerify, kImportBundle};
}  // namespace btfd::proto::method
