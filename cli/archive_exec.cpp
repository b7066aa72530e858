// SPDX-License-Identifier: GPL-2.0-or-later
// check, gen and mirror, as btfctl runs them: in btfctl-archive (libexec),
// the one btfctl binary that links libcurl and libarchive. Linked into btfctl
// itself, their ~40 shared libraries were mapped and relocated by every
// command, which cost more than a whole one-object `btfctl minimize`. The
// command is handed over with exec(3), its global options spelled out again;
// btfctl-archive is btfctl with the real commands (cmd_check.cpp, ...).
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "btfd-config.h"
#include "cli/cli.hpp"

namespace btfctl {
namespace {

// $BTFCTL_ARCHIVE_TOOL, else btfctl-archive beside this btfctl (the build
// tree), else the installed one.
std::string archive_tool() {
  if (const char* env = std::getenv("BTFCTL_ARCHIVE_TOOL"); env && *env) return env;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    std::string dir(self, static_cast<size_t>(n));
    dir.erase(dir.rfind('/') + 1);
    if (::access((dir + "btfctl-archive").c_str(), X_OK) == 0) return dir + "btfctl-archive";
  }
  return BTFCTL_ARCHIVE_TOOL;
}

int exec_archive_tool(const Globals& g, const char* command, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"btfctl"};
  if (g.pretty) argv.push_back("--pretty");
  else if (g.json) argv.push_back("--json");
  if (g.quiet) argv.push_back("--quiet");
  if (!g.socket.empty()) argv.push_back("--socket=" + g.socket);
  argv.push_back(command);
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> raw;
  for (std::string& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  std::string tool = archive_tool();
  ::execv(tool.c_str(), raw.data());
  return report_local_error(g, btfd::make_error(btfd::Errc::io, std::string("cannot run ") + tool + " for btfctl " +
                                                                     command + ": " + std::strerror(errno)));
}

}  // namespace

int cmd_check(const Globals& g, std::vector<std::string>& args) { return exec_archive_tool(g, "check", args); }
int cmd_gen(const Globals& g, std::vector<std::string>& args) { return exec_archive_tool(g, "gen", args); }
int cmd_mirror(const Globals& g, std::vector<std::string>& args) { return exec_archive_tool(g, "mirror", args); }

}  // namespace btfctl
