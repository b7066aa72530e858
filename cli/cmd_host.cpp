// SPDX-License-Identifier: GPL-2.0-or-later
// `btfctl host`: this machine's kernel identity and where its BTF would come from,
// computed locally (no daemon needed).
#include <cstdio>

#include "btfd-config.h"
#include "cli/cli.hpp"
#include "kernel/identity.hpp"
#include "config/config.hpp"
#include "util/fd.hpp"

namespace btfctl {

int cmd_host(const Globals& g, std::vector<std::string>& args) {
  std::string root, config = BTFD_DEFAULT_CONFIG, err;
  if (!take_option(args, "--host-root", &root, &err) && !err.empty()) return usage_error(g, err);
  bool explicit_config = take_option(args, "--config", &config, &err);
  if (!explicit_config && !err.empty()) return usage_error(g, err);
  if (!args.empty()) return usage_error(g, "unexpected argument \"" + args[0] + "\"");
  auto host = btfd::detect_host(root);
  if (!host) {
    // A local problem (exit 1), said with the root the user gave.
    btfd::Error e = host.error();
    e.code = btfd::Errc::io;
    if (!root.empty()) e.message = "--host-root " + root + ": " + e.message;
    return report_error(g, e);
  }
  // The archive path as btfd would ask for it: the same distro table, with
  // btfd.conf's [Distro] lines (and its drop-ins') when the file is there.
  btfd::server::Config cfg = btfd::server::default_config();
  if (auto st = btfd::server::load_config_files(cfg, config, explicit_config); !st) {
    btfd::Error e = st.error();
    if (e.code == btfd::Errc::not_found) e.code = btfd::Errc::io;  // a local file: exit 1, never 4
    return report_error(g, e);
  }
  if (auto st = btfd::server::load_distro_table(cfg); !st) return report_error(g, st.error());
  const auto& id = host->identity;
  auto key = cfg.distros.resolve(id);
  if (!key) return report_error(g, key.error());
  std::string hub_path = key->kernel.hub_path() + ".btf.tar.xz";
  bool native = !host->native_btf_path.empty();
  if (g.quiet) return kExitOk;
  if (g.json) {
    // The host as `btfctl status --json` (io.btfd.Status) shows it: "host"
    // named as the archive names it, "host_exact", "native_btf" (a bool);
    // then what only this command knows.
    const auto& k = key->kernel;
    print_json(g, {{"host", {{"distro", k.distro_id}, {"version", k.distro_version}, {"arch", k.arch}, {"release", k.release}}},
                   {"host_exact", key->exact},
                   {"native_btf", native},
                   {"native_btf_path", native ? nlohmann::json(host->native_btf_path) : nlohmann::json()},
                   {"os_release", {{"distro", id.distro_id}, {"version", id.distro_version}}},
                   {"hub_path", hub_path}});
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
