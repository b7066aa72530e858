// SPDX-License-Identifier: GPL-2.0-or-later
#include "methods/methods.hpp"
#include "proto/interface.hpp"

namespace btfd::server::methods {
namespace {
ParamTypes none() { return {}; }
namespace m = proto::method;
const Method kTable[] = {
    {m::kGetInfo, get_info, none},
    {m::kGetInterfaceDescription, get_interface_description, get_interface_description_params},
    {m::kGetBtf, get_btf, get_btf_params},
    {m::kListKernels, list_kernels, none},
    {m::kPrefetch, prefetch, prefetch_params},
    {m::kStatus, status, none},
    {m::kStats, stats, stats_params},
    {m::kRefresh, refresh, none},
    {m::kGarbageCollect, garbage_collect, none},
    {m::kVerify, verify, none},
    {m::kImportBundle, import_bundle, import_bundle_params},
};
}  // namespace

std::span<const Method> table() { return kTable; }

std::span<const Server::MethodHandler> handlers() {
  static const std::vector<Server::MethodHandler> all = [] {
    std::vector<Server::MethodHandler> v;
    for (const auto& m : kTable) v.push_back({m.name, m.handler});
    return v;
  }();
  return all;
}

}  // namespace btfd::server::methods
