// SPDX-License-Identifier: GPL-2.0-or-later
// `btfctl host`: this machine's kernel identity and where its BTF would come from,
// computed locally (no daemon needed).
#include <cstdio>

#include "btfd-config.h"
#include "cli/cli.hpp"
#include "kernel/identity.hpp"
#include "server/config.hpp"
#include "util/fd.hpp"

namespace btfctl {

int cmd_host(const Globals& g, std::vector<std::string>& args) {
  std::string root, config = BTFD_DEFAULT_CONFIG, err;
  if (!take_option(args, "--host-root", &root, &err) && !err.empty()) return usage_error(g, err);
  bool explicit_config = take_option(args, "--config", &config, &err);
  if (!explicit_config && !err.empty()) return usage_error(g, err);
  if (!args.empty()) return usage_error(g, "unexpected argument \"" + args[0] + "\"");
  auto host = btfd::detect_host(root);
  if (!host) return report_error(g, host.error());
  // The archive path as btfd would ask for it: the same distro table, with
  // btfd.conf's [Distro] lines when the file is there.
  btfd::server::Config cfg = btfd::server::default_config();
  if (auto text = btfd::read_text_file(config, 1 << 20); text) {
    if (auto st = btfd::server::apply_config_text(cfg, *text, config); !st) return report_error(g, st.error());
  } else if (explicit_config || text.error().code != btfd::Errc::not_found) {
    return report_error(g, text.error());
  }
  if (auto st = btfd::server::load_distro_table(cfg); !st) return report_error(g, st.error());
  const auto& id = host->identity;
  auto key = cfg.distros.resolve(id);
  if (!key) return report_error(g, key.error());
  std::string hub_path = key->kernel.hub_path() + ".btf.tar.xz";
  bool native = !host->native_btf_path.empty();
  if (g.json) {
    print_json(g, {{"distro_id", id.distro_id},
                   {"distro_version", id.distro_version},
                   {"arch", id.arch},
                   {"release", id.release},
                   {"hub_path", hub_path},
                   {"exact", key->exact},
                   {"native_btf", native ? nlohmann::json(host->native_btf_path) : nlohmann::json()}});
    return kExitOk;
  }
  std::printf("kernel:      %s\n", id.to_string().c_str());
  if (native)
    std::printf("BTF source:  native (%s)\n", host->native_btf_path.c_str());
  else
    std::printf("BTF source:  hub (%s%s)\n", hub_path.c_str(), key->exact ? "" : ", through a site alias");
  return kExitOk;
}

}  // namespace btfctl
