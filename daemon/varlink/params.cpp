// SPDX-License-Identifier: GPL-2.0-or-later
#include "varlink/params.hpp"

namespace btfd::server {
namespace {

using proto::idl::Field;
using proto::idl::Interface;

bool is_index(const nlohmann::json& v) {
  return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
}

// What a value of the type must be, for the error message.
std::string described(std::string_view type, const Interface& iface) {
  if (type.starts_with("[]")) {
    std::string inner = described(type.substr(2), iface);
    return "an array of " + inner.substr(inner.find(' ') + 1) + "s";
  }
  if (type == "bool") return "a boolean";
  if (type == "string") return "a string";
  if (type == "int") return "a non-negative integer";
  if (type == "object") return "an object";
  std::string fields;
  if (const auto* t = iface.type(type))
    for (const auto& f : t->fields) fields += (fields.empty() ? "" : ", ") + std::string(f.name);
  return "an object {" + fields + "}";
}

std::optional<ParamError> check_fields(const nlohmann::json& obj, const std::vector<Field>& fields,
                                       const Interface& iface, const std::string& prefix);

// Whether v is a value of `type` (its nested errors reported with their path).
std::optional<ParamError> check_value(const nlohmann::json& v, std::string_view type, const Interface& iface,
                                      const std::string& path, bool* ok) {
  *ok = false;
  if (type.starts_with("[]")) {
    if (!v.is_array()) return std::nullopt;
    for (const auto& e : v) {
      if (auto bad = check_value(e, type.substr(2), iface, path, ok)) return bad;
      if (!*ok) return std::nullopt;
    }
    *ok = true;
    return std::nullopt;
  }
  if (type == "bool") *ok = v.is_boolean();
  else if (type == "string") *ok = v.is_string();
  else if (type == "int") *ok = is_index(v);
  else if (type == "object") *ok = v.is_object();
  else if (const auto* t = iface.type(type)) {
    if (!v.is_object()) return std::nullopt;
    if (auto bad = check_fields(v, t->fields, iface, path + ".")) return bad;
    *ok = true;
  }
  return std::nullopt;
}

std::optional<ParamError> check_fields(const nlohmann::json& obj, const std::vector<Field>& fields,
                                       const Interface& iface, const std::string& prefix) {
  for (const auto& [key, value] : obj.items()) {
    const Field* f = nullptr;
    for (const auto& candidate : fields)
      if (key == candidate.name) f = &candidate;
    // The key is client text: keep the name in a reply short.
    std::string path = prefix + (key.size() > 64 ? key.substr(0, 64) + "..." : key);
    if (!f) return ParamError{path, "unknown parameter"};
    if (value.is_null()) continue;
    std::string_view type = f->type;
    if (type.starts_with('?')) type.remove_prefix(1);
    bool ok = false;
    if (auto bad = check_value(value, type, iface, path, &ok)) return bad;
    if (!ok) return ParamError{path, "must be " + described(type, iface)};
  }
  for (const auto& f : fields) {
    if (*f.type == '?') continue;
    auto it = obj.find(f.name);
    if (it == obj.end() || it->is_null()) return ParamError{prefix + f.name, "missing"};
  }
  return std::nullopt;
}

}  // namespace

std::optional<ParamError> check_params(const nlohmann::json& params, const proto::idl::Method& method,
                                       const proto::idl::Interface& iface) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  if (!params.is_null() && !params.is_object()) return ParamError{"parameters", "must be an object"};
  return check_fields(params.is_null() ? kEmpty : params, method.in, iface, "");
}

}  // namespace btfd::server
