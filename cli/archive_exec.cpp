// SPDX-License-Identifier: GPL-2.0-or-later
// check, gen and mirror, as btfctl runs them: in btfctl-archive (libexec),
// the one btfctl binary that links libcurl and libarchive. Linked into btfctl
// itself, their ~40 shared libraries were mapped and relocated by every
// command, which cost more than a whole one-object `btfctl minimize`. The
// command is handed over with exec(3), its global options spelled out again;
// btfctl-archive is btfctl with the real commands (cmd_check.cpp, ...).
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "btfd-config.h"
#include "cli/cli.hpp"
#include "util/helper_path.hpp"

namespace btfctl {
namespace {

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
  std::string tool = btfd::helper_path("BTFCTL_ARCHIVE_TOOL", "btfctl-archive", BTFCTL_ARCHIVE_TOOL);
  ::execv(tool.c_str(), raw.data());
  return report_local_error(g, btfd::make_error(btfd::Errc::io, std::string("cannot run ") + tool + " for btfctl " +
                                                                     command + ": " + std::strerror(errno)));
}

}  // namespace

int cmd_check(const Globals& g, std::vector<std::string>& args) { return exec_archive_tool(g, "check", args); }
int cmd_gen(const Globals& g, std::vector<std::string>& args) { return exec_archive_tool(g, "gen", args); }
int cmd_mirror(const Globals& g, std::vector<std::string>& args) { return exec_archive_tool(g, "mirror", args); }

}  // namespace btfctl
