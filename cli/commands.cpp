// SPDX-License-Identifier: GPL-2.0-or-later
// The command table: one line per btfctl subcommand.
#include "cli/cli.hpp"

namespace btfctl {

int cmd_host(const Globals&, std::vector<std::string>&);
int cmd_minimize(const Globals&, std::vector<std::string>&);
int cmd_get(const Globals&, std::vector<std::string>&);
int cmd_list(const Globals&, std::vector<std::string>&);
int cmd_status(const Globals&, std::vector<std::string>&);
int cmd_version(const Globals&, std::vector<std::string>&);
int cmd_stats(const Globals&, std::vector<std::string>&);
int cmd_gc(const Globals&, std::vector<std::string>&);
int cmd_verify(const Globals&, std::vector<std::string>&);
int cmd_prefetch(const Globals&, std::vector<std::string>&);
int cmd_refresh(const Globals&, std::vector<std::string>&);
int cmd_transparent(const Globals&, std::vector<std::string>&);
int cmd_gen(const Globals&, std::vector<std::string>&);
int cmd_import(const Globals&, std::vector<std::string>&);
int cmd_check(const Globals&, std::vector<std::string>&);
int cmd_mirror(const Globals&, std::vector<std::string>&);

// Per-command --help: every flag, one line each.
constexpr const char* kGetOptions =
    "  --release R           the kernel's release (uname -r); alone: this distro's kernel R\n"
    "  --distro ID           os-release ID, e.g. ubuntu (needs --distro-version and --release)\n"
    "  --distro-version V    os-release VERSION_ID, e.g. 20.04 (needs --distro)\n"
    "  --arch A              x86_64, aarch64/arm64, ... (needs --release; default: this host's)\n"
    "  --object FILE         minimize for this BPF object (repeatable; btfd gets the open file, never the path)\n"
    "  -o, --output FILE     write the BTF to FILE (\"-\": standard output); the way to get the bytes\n"
    "  --refresh             ask the hub again even if it said \"not in hub\" before\n"
    "  --compat LEVEL        BTF an older reader parses: a kernel release (5.13) or an alias (cilium-ebpf-0.9)\n"
    "  --module NAME         also a kernel module's split BTF, made from its installed debug info (repeatable)\n"
    "  --module-dir DIR      where each module's split BTF is written, as NAME.btf (needed with --module)\n"
    "Without -o, the path of btfd's cache file is printed when you can read it.\n"
    "On a terminal, a download shows its progress on stderr.\n";
constexpr const char* kListOptions =
    "  (no options) objects are shown by the file name a client last gave them\n";
constexpr const char* kPrefetchOptions =
    "  --release R           the kernel's release (uname -r); alone: this distro's kernel R\n"
    "  --distro ID           os-release ID, e.g. ubuntu (needs --distro-version and --release)\n"
    "  --distro-version V    os-release VERSION_ID, e.g. 20.04 (needs --distro)\n"
    "  --arch A              x86_64, aarch64/arm64, ... (needs --release; default: this host's)\n"
    "  --no-pin              let eviction drop the entry like any other (default: pinned)\n"
    "Needs root, the group in [Access] AllowGroup= or the admin socket.\n";
constexpr const char* kRefreshOptions =
    "  (no options) needs root, the group in [Access] AllowGroup= or the admin socket\n";
constexpr const char* kStatusOptions =
    "  (no options)\n";
constexpr const char* kStatsOptions =
    "  --prometheus          the Prometheus text exposition instead of the counters\n"
    "Text by default; --json for btfd's JSON.\n";
constexpr const char* kGcOptions =
    "  (no options) needs root, the group in [Access] AllowGroup= or the admin socket\n";
constexpr const char* kVerifyOptions =
    "  (no options) needs root, the group in [Access] AllowGroup= or the admin socket\n";
constexpr const char* kMinimizeOptions =
    "  KERNEL_BTF            raw kernel BTF (e.g. /sys/kernel/btf/vmlinux or a btfhub .btf)\n"
    "  OBJECT...             BPF objects (ELF with .BTF and .BTF.ext)\n"
    "  -o, --output OUT      write the minimized BTF to OUT (\"-\": standard output)\n"
    "  --report              print each CO-RE relocation and what it matched\n"
    "  --compat LEVEL        rewrite the output for an older reader: a kernel release (5.13) or an alias\n"
    "                        (cilium-ebpf-0.9); with no OBJECT, the whole KERNEL_BTF is rewritten\n";
constexpr const char* kHostOptions =
    "  --host-root DIR       read os-release and /sys from DIR instead of /\n"
    "  --config FILE         btfd.conf whose [Distro] lines to apply (default: the installed one)\n";
constexpr const char* kCheckOptions =
    "  OBJECT...             BPF objects (ELF with .BTF and .BTF.ext)\n"
    "  --from SRC            btfhub-archive directory or mirror URL (http, https, file)\n"
    "  --distro ID           only kernels of this distro (also --distro-version V, --arch A;\n"
    "                        --version V is an alias of --distro-version)\n"
    "  --release-glob GLOB   only releases matching this fnmatch(3) pattern\n"
    "  --html FILE           also write a self-contained HTML report (kernels x programs)\n"
    "  -j, --jobs N          kernels checked in parallel (default: all cores)\n"
    "Exit 0 when every program loads on every kernel; 1 when one fails somewhere or a kernel cannot be read.\n";

const std::vector<Command>& command_table() {
  static const std::vector<Command> table = {
      {"get", "[--distro ID --distro-version V --arch A --release R] [--object FILE]... [-o FILE] [--refresh] [--compat LEVEL] [--module NAME... --module-dir DIR]",
       "Get BTF for this host (or a kernel), minimized for objects if given; --refresh asks the hub again.", cmd_get, kGetOptions},
      {"list", "", "List cached kernels, minimized entries and remembered objects.", cmd_list, kListOptions},
      {"prefetch", "[--release R] [--distro ID --distro-version V --arch A] [--no-pin]",
       "Fetch a kernel's BTF ahead of time and pre-minimize it for recent objects.", cmd_prefetch, kPrefetchOptions},
      {"refresh", "", "Get BTF for installed kernels that lack it, asking the hub again (the timer's job).",
       cmd_refresh, kRefreshOptions},
      {"status", "", "Show the daemon's version, uptime, host, cache use and mirror health.", cmd_status, kStatusOptions},
      {"version", "", "Show btfctl's version and the version of the btfd it reaches.", cmd_version},
      {"stats", "[--prometheus]", "Show request and cache statistics.", cmd_stats, kStatsOptions},
      {"gc", "", "Evict to the cache budget and remove unreferenced blobs.", cmd_gc, kGcOptions},
      {"verify", "", "Re-hash every cached blob; damaged ones are dropped (refetched when next asked).", cmd_verify, kVerifyOptions},
      {"minimize", "KERNEL_BTF OBJECT... -o OUT [--report] [--compat LEVEL]",
       "Minimize a kernel BTF for CO-RE objects, locally (like bpftool gen min_core_btf).", cmd_minimize, kMinimizeOptions},
      {"check",
       "OBJECT... --from MIRROR|DIR [--distro ID] [--distro-version V] [--arch A] [--release-glob GLOB] [--html FILE] "
       "[-j N]",
       "Which CO-RE relocations resolve on which kernels of a btfhub-archive source, per program (local).",
       cmd_check, kCheckOptions},
      {"import", "BUNDLE",
       "Fill btfd's cache from a bundle (btfctl gen --bundle), for hosts without a hub; needs root or the admin group.",
       cmd_import},
      {"gen",
       "OBJECT... --from MIRROR|DIR [--distro ID] [--distro-version V] [--arch A] [--release-glob GLOB] -o OUT [--bundle] [--replace] "
       "[-j N]",
       "Minimize every kernel of a btfhub-archive source for the objects (btfgen): a btfhub-layout tree or one "
       "bundle (local).",
       cmd_gen,
       "  --from SRC            btfhub-archive directory or mirror URL (http, https, file)\n"
       "  --distro ID           only kernels of this distro (also --distro-version V, --arch A;\n"
    "                        --version V is an alias of --distro-version)\n"
       "  --release-glob GLOB   only releases matching this fnmatch(3) pattern\n"
       "  -o, --output OUT      the tree's directory, or the bundle file (\"-\": standard output)\n"
       "  --bundle              write one bundle (docs/bundle.md) instead of a tree\n"
       "  --replace             OUT is a tree gen made for other objects: empty it and start anew\n"
       "  -j, --jobs N          kernels minimized in parallel (default: all cores)"},
      {"mirror", "sync SOURCE DEST [--distro ID] [--distro-version V] [--arch A] [--release-glob GLOB] | export DEST",
       "Build a site mirror (btfhub layout + SHA256SUMS) from an archive, incrementally, or from btfd's cache.",
       cmd_mirror,
       "  sync SOURCE DEST      copy the matching archives of SOURCE (URL or directory) into DEST, checked as btfd\n"
       "                        checks a download; only what changed; a killed run resumes\n"
       "  --distro ID           only kernels of this distro (also --distro-version V, --arch A;\n"
    "                        --version V is an alias of --distro-version)\n"
       "  --release-glob GLOB   only releases matching this fnmatch(3) pattern\n"
       "  export DEST           write the kernels btfd's cache holds into DEST (through btfd)\n"
       "Serve DEST with any web server or bucket, or as a file:// mirror (btfd.conf [Hub] Mirrors=)."},
      {"host", "[--host-root DIR] [--config FILE]",
       "Show this host's kernel identity and its BTF source: native or the archive path (local, no daemon).", cmd_host, kHostOptions},
      {"transparent", "install|remove|status [--release R | --all] [--if-enabled] [--config FILE]",
       "Install or remove a kernel's BTF where unmodified libbpf and cilium/ebpf look (root), or show the files.",
       cmd_transparent,
       "  install               write kernel R's BTF from btfd as btfd's ELF file at [Transparent] Path=\n"
       "  remove                delete btfd's file of kernel R (a file that is not btfd's is left alone)\n"
       "  status                each kernel, its path, what is there (absent, installed, foreign), native BTF\n"
       "  --release R           the kernel (default: the running one)\n"
       "  --all                 install for every installed kernel (btfd-transparent.service)\n"
       "  --if-enabled          install nothing unless btfd.conf says [Transparent] Enable=yes (the hooks)\n"
       "  --config FILE         btfd.conf to read (default: the installed one)\n"
       "install and remove need root (the files are root's); btfd itself never writes them.\n"},
  };
  return table;
}

}  // namespace btfctl
