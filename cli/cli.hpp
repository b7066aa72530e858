// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// btfctl's shared command plumbing: global options, the command table, output
// that honours --json (errors included) and documented exit codes.

#include <nlohmann/json.hpp>
#include <span>
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
  kExitNotFound = 4,     // no BTF exists for the kernel (hub has none), and nothing else
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
  // `btfctl NAME --help`: every flag of the command, one "  --flag ARG  what it
  // does" line each ('\n'-separated; null: the command takes none).
  const char* options = nullptr;
};

// Every command; defined in commands.cpp.
extern const std::vector<Command>& command_table();
// "1 kernel", "2 kernels": a count with the noun that fits it.
std::string count_of(uint64_t n, const char* one, const char* many);

// Prints an error (one line on stderr, or a JSON object on stdout with --json)
// and returns the exit code that fits it.
// extra: more fields for the JSON error object (e.g. btfd's error name).
// For commands that never talk to btfd (check, gen, mirror sync): a mirror
// that cannot be reached is a failure (1), never "btfd unreachable" (3).
int report_local_error(const Globals& g, btfd::Error e);
int report_error(const Globals& g, const btfd::Error& e, const nlohmann::json& extra = nlohmann::json::object());
int usage_error(const Globals& g, const std::string& message);
void print_json(const Globals& g, const nlohmann::json& j);
int exit_code_for(btfd::Errc code);

// Pulls "--flag VALUE" / "--flag=VALUE" (and "-fVALUE" for a short flag) out
// of args; returns false if absent.
bool take_option(std::vector<std::string>& args, const std::string& flag, std::string* value,
                 std::string* error);
bool take_flag(std::vector<std::string>& args, const std::string& flag);
// True when args hold -h/--help (and removes it).
bool wants_help(std::vector<std::string>& args);
// Prints "Usage: btfctl NAME ARGS" and the summary for one command.
void print_command_help(const Command& c);
const Command* find_command(const std::string& name);
// The command whose name is closest to a mistyped one (edit distance at most
// 2, and less than the name's length), or nullptr.
const Command* closest_command(const std::string& name);
// "unknown command "X"", with "; did you mean 'Y'?" when one is close.
std::string unknown_command_message(const std::string& name);
// Writes bytes to the file the user named with -o ("-": standard output);
// errors name that path, never a temporary file (exit 1).
btfd::Status write_output(const std::string& path, std::span<const uint8_t> bytes);
// --distro/--distro-version/--arch/--release into a Kernel object (null: this
// host); a partial identity is a usage error (*rc set, false returned).
bool kernel_options(const Globals& g, std::vector<std::string>& args, nlohmann::json* kernel, int* rc);

}  // namespace btfctl
