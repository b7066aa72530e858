// SPDX-License-Identifier: GPL-2.0-or-later
// btfctl: parses global options and dispatches to the command table.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "btfd-config.h"
#include "cli/cli.hpp"

using namespace btfctl;

static void print_help() {
  std::printf(
      "Usage: btfctl [--json] [--pretty] [--quiet] [--socket PATH] COMMAND [ARGS...]\n"
      "       btfctl help [COMMAND]\n       btfctl --version\n\nCommands:\n");
  for (const auto& c : command_table()) std::printf("  %-11s %s\n", c.name, c.summary);
  std::printf("\nRun 'btfctl COMMAND --help' for a command's options.\n");
}

// Takes "-j" out of a command's arguments unless a number follows it.
static bool take_short_json(std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") break;
    if (args[i] != "-j") continue;
    const std::string next = i + 1 < args.size() ? args[i + 1] : "";
    if (!next.empty() && next.find_first_not_of("0123456789") == std::string::npos) continue;
    args.erase(args.begin() + static_cast<long>(i));
    return true;
  }
  return false;
}

int main(int argc, char** argv) {
  Globals g;
  std::vector<std::string> args(argv + 1, argv + argc);
  // Global options come before the command name.
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--json" || a == "-j") g.json = true;
    else if (a == "--pretty" || a == "-p") g.json = g.pretty = true;
    else if (a == "--quiet" || a == "-q") g.quiet = true;
    else if (a == "--version" || a == "-V") {
      if (g.json) print_json(g, {{"version", BTFD_VERSION}});
      else std::printf("btfctl %s\n", BTFD_VERSION);
      return kExitOk;
    } else if (a == "--socket") {
      if (i + 1 >= args.size()) return usage_error(g, "--socket needs a value");
      g.socket = args[++i];
    } else if (a.rfind("--socket=", 0) == 0) g.socket = a.substr(9);
    else if (a == "--help" || a == "-h") {
      print_help();
      return kExitOk;
    } else if (!a.empty() && a[0] == '-') return usage_error(g, "unknown option \"" + a + "\"");
    else break;
  }
  if (i >= args.size()) {
    print_help();
    return kExitUsage;
  }
  std::string name = args[i];
  std::vector<std::string> rest(args.begin() + static_cast<long>(i) + 1, args.end());
  // Global options are also accepted after the command, bpftool-style; there,
  // "-j N" (a number follows) is the command's job count (check, gen), not --json.
  if (take_flag(rest, "--json") || take_short_json(rest)) g.json = true;
  if (take_flag(rest, "--pretty") || take_flag(rest, "-p")) g.json = g.pretty = true;
  if (take_flag(rest, "--quiet") || take_flag(rest, "-q")) g.quiet = true;
  {
    std::string socket, err;
    if (take_option(rest, "--socket", &socket, &err)) g.socket = socket;
    else if (!err.empty()) return usage_error(g, err);
  }
  if (name == "help") {
    if (wants_help(rest)) {
      std::printf("Usage: btfctl help [COMMAND]\n\nList the commands, or show one command's arguments and options.\n");
      return kExitOk;
    }
    if (rest.size() > 1) return usage_error(g, "help takes one command name");
    if (!rest.empty()) {
      const Command* c = find_command(rest[0]);
      if (!c) return usage_error(g, unknown_command_message(rest[0]));
      print_command_help(*c);
    } else {
      print_help();
    }
    return kExitOk;
  }
  const Command* c = find_command(name);
  if (!c) return usage_error(g, unknown_command_message(name));
  if (wants_help(rest)) {
    print_command_help(*c);
    return kExitOk;
  }
  return c->run(g, rest);
}
