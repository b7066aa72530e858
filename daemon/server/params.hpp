// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Typed method parameters: each method declares its fields (name, JSON type)
// in a static table, and a call's parameters are checked against it before any
// handler runs — sd-varlink's dispatch tables are the model. An unknown field or
// a wrong type is an InvalidParameter naming the field; after the check,
// handlers read fields with the accessors below, which never throw.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>

namespace btfd::server {

enum class ParamType {
  boolean,
  string,
  fd_indexes,  // an array of unsigned integers (indexes into the call's descriptors)
  fd_index,    // one unsigned integer (an index into the call's descriptors)
  strings,     // an array of strings (lengths are the handler's to bound)
  kernel,      // {distro?, version?, arch?, release?}: all strings
};

struct ParamField {
  const char* name;
  ParamType type;
};

struct ParamError {
  std::string parameter;  // dotted path, e.g. "kernel.release"
  std::string message;
};

// `params` is the call's "parameters" value; null or absent means {}. A field
// whose value is null counts as absent, as in Varlink.
std::optional<ParamError> check_params(const nlohmann::json& params, std::span<const ParamField> schema);

// Accessors for checked parameters: absent or null gives the fallback.
bool param_bool(const nlohmann::json& params, const char* name, bool fallback);
const nlohmann::json* param(const nlohmann::json& params, const char* name);

}  // namespace btfd::server
