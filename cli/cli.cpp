// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/cli.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "util/fd.hpp"

namespace btfctl {

// Exit 4 is a promise to scripts ("no BTF exists for that kernel": stop
// retrying); every other failure, a missing local file included, is 1.
int exit_code_for(btfd::Errc code) {
  switch (code) {
    case btfd::Errc::unreachable: return kExitUnreachable;
    case btfd::Errc::not_in_hub: return kExitNotFound;
    default: return kExitFailure;
  }
}

void print_json(const Globals& g, const nlohmann::json& j) {
  // File names and btfd's messages may hold any bytes: never throw on them.
  std::cout << j.dump(g.pretty ? 2 : -1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

int report_error(const Globals& g, const btfd::Error& e, const nlohmann::json& extra) {
  if (g.json) {
    nlohmann::json err = {{"code", btfd::errc_name(e.code)}, {"message", e.message}};
    for (const auto& [k, v] : extra.items()) err[k] = v;
    print_json(g, {{"error", err}});
  } else {
    std::fprintf(stderr, "btfctl: error: %s\n", e.message.c_str());
  }
  return exit_code_for(e.code);
}

std::string count_of(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

int report_local_error(const Globals& g, btfd::Error e) {
  if (e.code == btfd::Errc::unreachable) e.code = btfd::Errc::io;
  return report_error(g, e);
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
    // A short option's value may be attached, getopt-style: "-j2", "-oOUT"
    // (`btfctl gen -j$(nproc)` is how build scripts write it).
    if (flag.size() == 2 && flag[0] == '-' && flag[1] != '-' && args[i].size() > 2 &&
        args[i].compare(0, 2, flag) == 0) {
      *value = args[i].substr(2);
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
  std::printf("Usage: btfctl [GLOBAL OPTIONS] %s %s\n\n%s\n", c.name, c.args, c.summary);
  if (c.options && *c.options) std::printf("\nOptions:\n%s\n", c.options);
  std::printf(
      "\nGlobal options (before or after the command):\n"
      "  -j, --json        output (errors too) as JSON\n"
      "  -p, --pretty      indented JSON (implies --json)\n"
      "  -q, --quiet       print nothing but errors\n"
      "  --socket PATH     btfd's socket (default: $BTFD_SOCKET, else the system socket)\n"
      "  -h, --help        this help\n");
}

const Command* find_command(const std::string& name) {
  for (const auto& c : command_table())
    if (name == c.name) return &c;
  return nullptr;
}

namespace {
// Levenshtein distance, two rows; names are short.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

const Command* closest_command(const std::string& name) {
  if (name.size() > 64) return nullptr;
  const Command* best = nullptr;
  size_t best_d = 3;  // farther than 2 edits is no longer a typo
  for (const auto& c : command_table()) {
    size_t d = edit_distance(name, c.name);
    if (d < best_d && d < std::strlen(c.name)) best = &c, best_d = d;
  }
  return best;
}

std::string unknown_command_message(const std::string& name) {
  std::string m = "unknown command \"" + name + "\"";
  if (const Command* c = closest_command(name)) m += std::string("; did you mean '") + c->name + "'?";
  return m;
}

btfd::Status write_output(const std::string& path, std::span<const uint8_t> bytes) {
  if (path == "-") {
    for (size_t off = 0; off < bytes.size();) {
      ssize_t n = ::write(STDOUT_FILENO, bytes.data() + off, bytes.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return btfd::sys_error(errno, "-o -: cannot write to standard output");
      off += static_cast<size_t>(n);
    }
    return {};
  }
  // Atomic, not synced: as compilers and bpftool write their output (state
  // btfctl writes for others, e.g. transparent's files, stays durable).
  auto st = btfd::write_file_atomic(path, bytes, 0644, btfd::Sync::atomic_only);
  if (st) return st;
  // write_file_atomic names its temporary file; the user named this one.
  btfd::Error e = std::move(st).error();
  std::string why = e.sys_errno ? std::strerror(e.sys_errno) : e.message;
  return btfd::make_error(btfd::Errc::io, "-o " + path + ": cannot write it: " + why);
}

bool kernel_options(const Globals& g, std::vector<std::string>& args, nlohmann::json* kernel, int* rc) {
  static const std::pair<const char*, const char*> flags[] = {
      {"--distro", "distro"}, {"--distro-version", "version"}, {"--arch", "arch"}, {"--release", "release"}};
  *kernel = nlohmann::json();
  for (auto [flag, field] : flags) {
    std::string v, err;
    if (take_option(args, flag, &v, &err)) {
      if (v.empty()) {
        *rc = usage_error(g, std::string(flag) + " needs a non-empty value");
        return false;
      }
      if (kernel->is_null()) *kernel = nlohmann::json::object();
      (*kernel)[field] = v;
    } else if (!err.empty()) {
      *rc = usage_error(g, err);
      return false;
    }
  }
  if (kernel->is_null()) return true;
  // A kernel is this host's, or named by its release (this distro), or by
  // distro, version and release (arch optional): half of a distro, or a
  // distro without a release, names no kernel and would quietly be
  // completed with this host's values.
  bool distro = kernel->contains("distro"), version = kernel->contains("version");
  const char* problem = nullptr;
  if (distro && !version) problem = "--distro needs --distro-version";
  else if (version && !distro) problem = "--distro-version needs --distro";
  else if ((distro || kernel->contains("arch")) && !kernel->contains("release"))
    problem = distro ? "--distro needs --release" : "--arch needs --release";
  if (problem) {
    *rc = usage_error(g, std::string(problem) +
                             " (a kernel is --release R, or --distro ID --distro-version V --release R [--arch A])");
    return false;
  }
  return true;
}

}  // namespace btfctl
