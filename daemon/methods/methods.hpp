// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The methods btfd serves, one free function each (one file per method or
// small group), called by the transport (daemon/varlink/dispatch.cpp) with a
// Request whose parameters the interface table (proto/interface.hpp) has
// checked. A method decodes them into its own struct (varlink/params.hpp),
// answers at once or admits the call and runs its work on a lane; its errors
// are values carrying their domain, mapped to wire names in one place
// (proto::error_name).

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "varlink/call.hpp"
#include "varlink/server.hpp"

namespace btfd::server::methods {

using Request = Server::Request;
using Call = Server::Call;
// A method's parameters as its bindings decode them: (name, Varlink type).
using ParamTypes = std::vector<std::pair<std::string, std::string>>;

struct Method {
  const char* name;  // full: "io.btfd.GetBtf"
  Server::Handler handler;
  ParamTypes (*params)();
};

// Every method of the interface table, with its handler (table.cpp).
std::span<const Method> table();
// The same as the transport takes them.
std::span<const Server::MethodHandler> handlers();

// info.cpp
void get_info(Server& s, Request& r);
void get_interface_description(Server& s, Request& r);
ParamTypes get_interface_description_params();
// get_btf.cpp
void get_btf(Server& s, Request& r);
ParamTypes get_btf_params();
// prefetch.cpp
void prefetch(Server& s, Request& r);
ParamTypes prefetch_params();
// state.cpp
void list_kernels(Server& s, Request& r);
void status(Server& s, Request& r);
// stats.cpp
void stats(Server& s, Request& r);
ParamTypes stats_params();
// maintenance.cpp
void refresh(Server& s, Request& r);
void garbage_collect(Server& s, Request& r);
void verify(Server& s, Request& r);
// import_bundle.cpp
void import_bundle(Server& s, Request& r);
ParamTypes import_bundle_params();

}  // namespace btfd::server::methods
