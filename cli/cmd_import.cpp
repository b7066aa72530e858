// SPDX-License-Identifier: GPL-2.0-or-later
// `btfctl import BUNDLE`: fills btfd's cache from a bundle (btfctl gen
// --bundle) on a host that cannot reach a hub. btfctl opens the file and
// passes the descriptor: btfd never opens a path a client names.
#include <fcntl.h>

#include <cstdio>

#include "cli/cli.hpp"
#include "cli/daemon_call.hpp"
#include "util/fd.hpp"
#include "proto/interface.hpp"

namespace btfctl {

int cmd_import(const Globals& g, std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a.size() > 1 && a[0] == '-') return usage_error(g, "import: unknown option \"" + a + "\"");
  if (args.size() != 1) return usage_error(g, "import needs exactly one bundle file");
  auto fd = btfd::open_file(args[0], O_RDONLY);
  if (!fd) return report_error(g, fd.error());
  int fds[] = {fd->get()};
  auto r = call_daemon(g, btfd::proto::method::kImportBundle, {{"bundle", 0}}, fds);
  if (!r) return report_error(g, std::move(r).error().wrap("\"" + args[0] + "\""));
  const auto& p = r->json["parameters"];
  if (g.quiet) return kExitOk;
  if (g.json) {
    print_json(g, p);
  } else {
    std::printf("imported %llu kernels (%llu distinct BTFs) for %zu objects from %s\n",
                static_cast<unsigned long long>(p.value("kernels", 0ull)),
                static_cast<unsigned long long>(p.value("blobs", 0ull)),
                p.contains("objects") && p["objects"].is_array() ? p["objects"].size() : size_t{0}, args[0].c_str());
  }
  return kExitOk;
}

}  // namespace btfctl
