// SPDX-License-Identifier: GPL-2.0-or-later
// org.varlink.service: what btfd is, and its interfaces' descriptions, both
// from the interface table.
#include <map>

#include "btfd-config.h"
#include "methods/methods.hpp"
#include "proto/errors.hpp"
#include "proto/interface.hpp"
#include "varlink/params.hpp"

namespace btfd::server::methods {

using nlohmann::json;

namespace {
struct DescriptionParams {
  std::string interface;
};
const Binding<DescriptionParams> kDescription[] = {bind<&DescriptionParams::interface>("interface")};
}  // namespace

void get_info(Server& s, Request& r) {
  json interfaces = json::array();
  for (const auto* i : proto::idl::interfaces()) interfaces.push_back(i->name);
  s.answer(r.call, {{"vendor", "btfd"}, {"product", "btfd"}, {"version", BTFD_VERSION},
                    {"url", "https://github.com/btfd/btfd"}, {"interfaces", std::move(interfaces)}});
}

ParamTypes get_interface_description_params() { return binding_types<DescriptionParams>(kDescription); }

void get_interface_description(Server& s, Request& r) {
  auto p = decode<DescriptionParams>(r.params, kDescription);
  const proto::idl::Interface* i = proto::idl::find_interface(p.interface);
  if (!i) {
    std::string shown = p.interface.size() > 128 ? p.interface.substr(0, 128) + "..." : p.interface;
    return s.fail(r.call, proto::errors::kInterfaceNotFound, "unknown interface \"" + shown + "\"",
                  {{"interface", shown}});
  }
  // Rendered once per interface: the table does not change while btfd runs.
  static const std::map<std::string, std::string> rendered = [] {
    std::map<std::string, std::string> m;
    for (const auto* each : proto::idl::interfaces()) m[each->name] = proto::idl::describe(*each);
    return m;
  }();
  s.answer(r.call, {{"description", rendered.at(i->name)}});
}

}  // namespace btfd::server::methods
