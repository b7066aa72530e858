// SPDX-License-Identifier: GPL-2.0-or-later
#include "server/params.hpp"

#include <array>

namespace btfd::server {
namespace {

constexpr std::array<ParamField, 4> kKernelFields = {{
    {"distro", ParamType::string},
    {"version", ParamType::string},
    {"arch", ParamType::string},
    {"release", ParamType::string},
}};

const char* type_name(ParamType t) {
  switch (t) {
    case ParamType::boolean: return "a boolean";
    case ParamType::string: return "a string";
    case ParamType::fd_indexes: return "an array of descriptor indexes";
    case ParamType::fd_index: return "a descriptor index";
    case ParamType::strings: return "an array of strings";
    case ParamType::kernel: return "an object {distro, version, arch, release}";
  }
  return "?";
}

std::optional<ParamError> check_object(const nlohmann::json& obj, std::span<const ParamField> schema,
                                       const std::string& prefix) {
  for (const auto& [key, value] : obj.items()) {
    const ParamField* f = nullptr;
    for (const auto& s : schema)
      if (key == s.name) f = &s;
    // The key is client text: keep the name in a reply short.
    std::string path = prefix + (key.size() > 64 ? key.substr(0, 64) + "..." : key);
    if (!f) return ParamError{path, "unknown parameter"};
    if (value.is_null()) continue;
    bool ok = false;
    switch (f->type) {
      case ParamType::boolean: ok = value.is_boolean(); break;
      case ParamType::string: ok = value.is_string(); break;
      case ParamType::fd_indexes:
        ok = value.is_array();
        if (ok)
          for (const auto& v : value)
            ok = ok && (v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0));
        break;
      case ParamType::strings:
        ok = value.is_array();
        if (ok)
          for (const auto& v : value) ok = ok && v.is_string();
        break;
      case ParamType::fd_index:
        ok = value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0);
        break;
      case ParamType::kernel:
        if (!value.is_object()) break;
        if (auto e = check_object(value, kKernelFields, path + ".")) return e;
        ok = true;
        break;
    }
    if (!ok) return ParamError{path, "must be " + std::string(type_name(f->type))};
  }
  return std::nullopt;
}

}  // namespace

std::optional<ParamError> check_params(const nlohmann::json& params, std::span<const ParamField> schema) {
  if (params.is_null()) return std::nullopt;
  if (!params.is_object()) return ParamError{"parameters", "must be an object"};
  return check_object(params, schema, "");
}

const nlohmann::json* param(const nlohmann::json& params, const char* name) {
  if (!params.is_object()) return nullptr;
  auto it = params.find(name);
  if (it == params.end() || it->is_null()) return nullptr;
  return &*it;
}

bool param_bool(const nlohmann::json& params, const char* name, bool fallback) {
  const nlohmann::json* v = param(params, name);
  return v && v->is_boolean() ? v->get<bool>() : fallback;
}

}  // namespace btfd::server
