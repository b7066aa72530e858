// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// btfctl's shared command plumbing: global options, the command table, output
// that honours --json (errors included) and documented exit codes.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace btfctl {

// Exit codes (documented in btfctl(1)).
enum Exit : int {
  kExitOk = 0,
  kExitFailure = 1,      // the operation failed
  kExitUsage = 2,        // bad command line
  kExitUnreachable = 3,  // btfd could not be reached
  kExitNotFound = 4,     // no BTF exists for the kernel (hub has none)
};

struct Globals {
  bool json = false;
  bool quiet = false;
  bool pretty = false;
  std::string socket;  // empty: the default socket
};

struct Command {
  const char* name;
  const char* args;     // one-line synopsis of the arguments
  const char* summary;  // one line for `btfctl help`
  int (*run)(const Globals& g, std::vector<std::string>& args);
};

// Every command; defined in commands.cpp.
extern const std::vector<Command>& command_table();

// Prints an error (one line on stderr, or a JSON object on stdout with --json)
// and returns the exit code that fits it.
int report_error(const Globals& g, const btfd::Error& e);
int usage_error(const Globals& g, const std::string& message);
void print_json(const Globals& g, const nlohmann::json& j);
int exit_code_for(btfd::Errc code);

// Pulls "--flag VALUE" / "--flag=VALUE" out of args; returns false if absent.
bool take_option(std::vector<std::string>& args, const std::string& flag, std::string* value,
                 std::string* error);
bool take_flag(std::vector<std::string>& args, const std::string& flag);
// True when args hold -h/--help (and removes it).
bool wants_help(std::vector<std::string>& args);
// Prints "Usage: btfctl NAME ARGS" and the summary for one command.
void print_command_help(const Command& c);
const Command* find_command(const std::string& name);

}  // namespace btfctl
