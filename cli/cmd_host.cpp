// SPDX-License-Identifier: GPL-2.0-or-later
// `btfctl host`: this machine's kernel identity and where its BTF would come from,
// computed locally (no daemon needed).
#include <cstdio>

#include "cli/cli.hpp"
#include "kernel/identity.hpp"

namespace btfctl {

int cmd_host(const Globals& g, std::vector<std::string>& args) {
  std::string root, err;
  if (!take_option(args, "--host-root", &root, &err) && !err.empty()) return usage_error(g, err);
  if (!args.empty()) return usage_error(g, "unexpected argument \"" + args[0] + "\"");
  auto host = btfd::detect_host(root);
  if (!host) return report_error(g, host.error());
  const auto& id = host->identity;
  bool native = !host->native_btf_path.empty();
  if (g.json) {
    print_json(g, {{"distro_id", id.distro_id},
                   {"distro_version", id.distro_version},
                   {"arch", id.arch},
                   {"release", id.release},
                   {"hub_path", id.hub_path() + ".btf.tar.xz"},
                   {"native_btf", native ? nlohmann::json(host->native_btf_path) : nlohmann::json()}});
    return kExitOk;
  }
  std::printf("kernel:      %s\n", id.to_string().c_str());
  if (native)
    std::printf("BTF source:  native (%s)\n", host->native_btf_path.c_str());
  else
    std::printf("BTF source:  hub (%s.btf.tar.xz)\n", id.hub_path().c_str());
  return kExitOk;
}

}  // namespace btfctl
