// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// A method's parameters: checked against the interface table
// (proto/interface.hpp) before any handler runs — sd-varlink's dispatch
// tables are the model — then decoded into the method's own struct by a
// table of bindings (field name, member). An unknown field, a wrong type or a
// missing required field is an InvalidParameter naming the field; after the
// check, decoding cannot fail.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "proto/interface.hpp"

namespace btfd::server {

struct ParamError {
  std::string parameter;  // dotted path, e.g. "kernel.release"
  std::string message;
};

// `params` is the call's "parameters" value; null or absent means {}. A field
// whose value is null counts as absent, as in Varlink. Integers must be
// non-negative: every int btfd takes is an index or a count.
std::optional<ParamError> check_params(const nlohmann::json& params, const proto::idl::Method& method,
                                       const proto::idl::Interface& iface);

// A field of a method's parameter struct P, by its name in the interface table.
template <class P>
struct Binding {
  using Member = std::variant<bool P::*, std::string P::*, uint64_t P::*, std::vector<uint64_t> P::*,
                              std::vector<std::string> P::*, nlohmann::json P::*>;
  const char* name;
  Member member;
};

namespace detail {
inline void assign(bool& to, const nlohmann::json& v) { to = v.get<bool>(); }
inline void assign(std::string& to, const nlohmann::json& v) { to = v.get<std::string>(); }
inline void assign(uint64_t& to, const nlohmann::json& v) { to = v.get<uint64_t>(); }
inline void assign(std::vector<uint64_t>& to, const nlohmann::json& v) { to = v.get<std::vector<uint64_t>>(); }
inline void assign(std::vector<std::string>& to, const nlohmann::json& v) { to = v.get<std::vector<std::string>>(); }
inline void assign(nlohmann::json& to, const nlohmann::json& v) { to = v; }
// The Varlink type a member decodes, without "?" (held to the table by a test).
inline const char* varlink_type(bool) { return "bool"; }
inline const char* varlink_type(const std::string&) { return "string"; }
inline const char* varlink_type(uint64_t) { return "int"; }
inline const char* varlink_type(const std::vector<uint64_t>&) { return "[]int"; }
inline const char* varlink_type(const std::vector<std::string>&) { return "[]string"; }
inline const char* varlink_type(const nlohmann::json&) { return "object"; }
}  // namespace detail

// Checked parameters into P (fields absent or null keep P's defaults).
template <class P>
P decode(const nlohmann::json& params, std::span<const Binding<P>> bindings) {
  P p{};
  for (const auto& b : bindings) {
    auto it = params.is_object() ? params.find(b.name) : params.end();
    if (it == params.end() || it->is_null()) continue;
    std::visit([&](auto member) { detail::assign(p.*member, *it); }, b.member);
  }
  return p;
}

// (name, Varlink type) of each binding, for the test that holds them to the table.
template <class P>
std::vector<std::pair<std::string, std::string>> binding_types(std::span<const Binding<P>> bindings) {
  std::vector<std::pair<std::string, std::string>> out;
  P p{};
  for (const auto& b : bindings)
    out.emplace_back(b.name, std::visit([&](auto member) { return std::string(detail::varlink_type(p.*member)); }, b.member));
  return out;
}

}  // namespace btfd::server
