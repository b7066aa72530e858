// SPDX-License-Identifier: GPL-2.0-or-later
// The command table: one line per btfctl subcommand.
#include "cli/cli.hpp"

namespace btfctl {

int cmd_host(const Globals&, std::vector<std::string>&);
int cmd_minimize(const Globals&, std::vector<std::string>&);

const std::vector<Command>& command_table() {
  static const std::vector<Command> table = {
      {"minimize", "KERNEL_BTF OBJECT... -o OUT [--report]",
       "Minimize a kernel BTF for CO-RE objects, locally (like bpftool gen min_core_btf).", cmd_minimize},
      {"host", "[--host-root DIR]", "Show this host's kernel identity and its BTF source (local, no daemon).", cmd_host},
  };
  return table;
}

}  // namespace btfctl
