// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/cli.hpp"

#include <cstdio>
#include <iostream>

namespace btfctl {

int exit_code_for(btfd::Errc code) {
  switch (code) {
    case btfd::Errc::unreachable: return kExitUnreachable;
    case btfd::Errc::not_in_hub:
    case btfd::Errc::not_found: return kExitNotFound;
    case btfd::Errc::invalid_argument: return kExitFailure;
    default: return kExitFailure;
  }
}

void print_json(const Globals& g, const nlohmann::json& j) {
  // File names and btfd's messages may hold any bytes: never throw on them.
  std::cout << j.dump(g.pretty ? 2 : -1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

int report_error(const Globals& g, const btfd::Error& e) {
  if (g.json) {
    print_json(g, {{"error", {{"code", btfd::errc_name(e.code)}, {"message", e.message}}}});
  } else {
    std::fprintf(stderr, "btfctl: error: %s\n", e.message.c_str());
  }
  return exit_code_for(e.code);
}

int usage_error(const Globals& g, const std::string& message) {
  if (g.json) {
    print_json(g, {{"error", {{"code", "usage"}, {"message", message}}}});
  } else {
    std::fprintf(stderr, "btfctl: %s (see 'btfctl help')\n", message.c_str());
  }
  return kExitUsage;
}

bool take_option(std::vector<std::string>& args, const std::string& flag, std::string* value,
                 std::string* error) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") break;
    if (args[i] == flag) {
      if (i + 1 >= args.size()) {
        *error = flag + " needs a value";
        return false;
      }
      *value = args[i + 1];
      args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
      return true;
    }
    if (args[i].rfind(flag + "=", 0) == 0) {
      *value = args[i].substr(flag.size() + 1);
      args.erase(args.begin() + static_cast<long>(i));
      return true;
    }
  }
  return false;
}

bool take_flag(std::vector<std::string>& args, const std::string& flag) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") break;
    if (args[i] == flag) {
      args.erase(args.begin() + static_cast<long>(i));
      return true;
    }
  }
  return false;
}

bool wants_help(std::vector<std::string>& args) {
  return take_flag(args, "--help") || take_flag(args, "-h");
}

void print_command_help(const Command& c) {
  std::printf("Usage: btfctl %s %s\n\n%s\n", c.name, c.args, c.summary);
}

const Command* find_command(const std::string& name) {
  for (const auto& c : command_table())
    if (name == c.name) return &c;
  return nullptr;
}

}  // namespace btfctl
