// SPDX-License-Identifier: GPL-2.0-or-later
// The command table: one line per btfctl subcommand.
#include "cli/cli.hpp"

namespace btfctl {

int cmd_host(const Globals&, std::vector<std::string>&);
int cmd_minimize(const Globals&, std::vector<std::string>&);
int cmd_get(const Globals&, std::vector<std::string>&);
int cmd_list(const Globals&, std::vector<std::string>&);
int cmd_status(const Globals&, std::vector<std::string>&);
int cmd_stats(const Globals&, std::vector<std::string>&);
int cmd_gc(const Globals&, std::vector<std::string>&);
int cmd_verify(const Globals&, std::vector<std::string>&);
int cmd_prefetch(const Globals&, std::vector<std::string>&);
int cmd_refresh(const Globals&, std::vector<std::string>&);
int cmd_transparent(const Globals&, std::vector<std::string>&);
int cmd_check(const Globals&, std::vector<std::string>&);
int cmd_gen(const Globals&, std::vector<std::string>&);
int cmd_import(const Globals&, std::vector<std::string>&);
int cmd_mirror(const Globals&, std::vector<std::string>&);

const std::vector<Command>& command_table() {
  static const std::vector<Command> table = {
      {"get", "[--distro ID --distro-version V --arch A --release R] [--object FILE]... [-o FILE] [--refresh]",
       "Get BTF for this host (or a kernel), minimized for objects if given; --refresh asks the hub again.", cmd_get},
      {"list", "", "List cached kernels, minimized entries and remembered objects.", cmd_list},
      {"prefetch", "[--release R] [--distro ID --distro-version V --arch A] [--no-pin]",
       "Fetch a kernel's BTF ahead of time and pre-minimize it for recent objects.", cmd_prefetch},
      {"refresh", "", "Get BTF for installed kernels that lack it, asking the hub again (the timer's job).",
       cmd_refresh},
      {"status", "", "Show the daemon's version, uptime, host, cache use and mirror health.", cmd_status},
      {"stats", "[--prometheus]", "Show request and cache statistics.", cmd_stats},
      {"gc", "", "Evict to the cache budget and remove unreferenced blobs.", cmd_gc},
      {"verify", "", "Re-hash every cached blob; damaged ones are dropped (refetched when next asked).", cmd_verify},
      {"minimize", "KERNEL_BTF OBJECT... -o OUT [--report]",
       "Minimize a kernel BTF for CO-RE objects, locally (like bpftool gen min_core_btf).", cmd_minimize},
      {"check",
       "OBJECT... --from MIRROR|DIR [--distro ID] [--version V] [--arch A] [--release-glob GLOB] [--html FILE] "
       "[-j N]",
       "Which CO-RE relocations resolve on which kernels of a btfhub-archive source, per program (local).",
       cmd_check},
      {"gen",
       "OBJECT... --from MIRROR|DIR [--distro ID] [--version V] [--arch A] [--release-glob GLOB] -o OUT [--bundle] "
       "[-j N]",
       "Minimize every kernel of a btfhub-archive source for the objects (btfgen): a btfhub-layout tree or one "
       "bundle (local).",
       cmd_gen},
      {"import", "BUNDLE",
       "Fill btfd's cache from a bundle (btfctl gen --bundle), for hosts without a hub; needs root or the admin group.",
       cmd_import},
      {"mirror", "sync SOURCE DEST [--distro ID] [--version V] [--arch A] [--release-glob GLOB] | export DEST",
       "Build a site mirror (btfhub layout + SHA256SUMS) from an archive, incrementally, or from btfd's cache.",
       cmd_mirror},
      {"host", "[--host-root DIR] [--config FILE]",
       "Show this host's kernel identity and its BTF source: native or the archive path (local, no daemon).", cmd_host},
      {"transparent", "install|remove|status [--release R | --all] [--if-enabled] [--config FILE]",
       "Install or remove a kernel's BTF where unmodified libbpf and cilium/ebpf look (root), or show the files.",
       cmd_transparent},
  };
  return table;
}

}  // namespace btfctl
