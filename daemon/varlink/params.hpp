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

namespace detail {
inline void assign(bool& to, const nlohmann::json& v) { to = v.get<bool>(); }
inline void assign(std::string& to, const nlohmann::json& v) { to = v.get<std::string>(); }
inline void assign(uint64_t& to, const nlohmann::json& v) { to = v.get<uint64_t>(); }
inline void assign(std::vector<uint64_t>& to, const nlohmann::json& v) { to = v.get<std::vector<uint64_t>>(); }
inline void assign(std::vector<std::string>& to, const nlohmann::json& v) { to = v.get<std::vector<std::string>>(); }
inline void assign(nlohmann::json& to, const nlohmann::json& v) { to = v; }
// The Varlink type a member decodes, without "?" (held to the table by a test).
template <class T> inline constexpr const char* varlink_type = nullptr;
template <> inline constexpr const char* varlink_type<bool> = "bool";
template <> inline constexpr const char* varlink_type<std::string> = "string";
template <> inline constexpr const char* varlink_type<uint64_t> = "int";
template <> inline constexpr const char* varlink_type<std::vector<uint64_t>> = "[]int";
template <> inline constexpr const char* varlink_type<std::vector<std::string>> = "[]string";
template <> inline constexpr const char* varlink_type<nlohmann::json> = "object";

template <auto M> struct member;
template <class P, class T, T P::*M>
struct member<M> {
  using Class = P;
  using Type = T;
};
}  // namespace detail

// A field of a method's parameter struct P, by its name in the interface table.
template <class P>
struct Binding {
  const char* name;
  void (*set)(P& p, const nlohmann::json& value);
  const char* type;  // the Varlink type it decodes
};

// bind<&Params::kernel>("kernel"): the binding of one member.
template <auto M>
Binding<typename detail::member<M>::Class> bind(const char* name) {
  using P = typename detail::member<M>::Class;
  using T = typename detail::member<M>::Type;
  static_assert(detail::varlink_type<T> != nullptr, "a parameter type the interface table has no name for");
  return {name, [](P& p, const nlohmann::json& v) { detail::assign(p.*M, v); }, detail::varlink_type<T>};
}

// Checked parameters into P (fields absent or null keep P's defaults).
template <class P>
P decode(const nlohmann::json& params, std::span<const Binding<P>> bindings) {
  P p{};
  for (const auto& b : bindings) {
    auto it = params.is_object() ? params.find(b.name) : params.end();
    if (it == params.end() || it->is_null()) continue;
    b.set(p, *it);
  }
  return p;
}

// (name, Varlink type) of each binding, for the test that holds them to the table.
template <class P>
std::vector<std::pair<std::string, std::string>> binding_types(std::span<const Binding<P>> bindings) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& b : bindings) out.emplace_back(b.name, b.type);
  return out;
}

}  // namespace btfd::server
