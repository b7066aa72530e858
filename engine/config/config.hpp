// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// btfd's configuration: /etc/btfd/btfd.conf (INI, systemd style: [Section],
// Key=Value, # and ; comments), then command-line flags on top. Every key has a
// default; btfd.conf(5) documents them.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hub/http_fetch.hpp"
#include "kernel/distro_map.hpp"
#include "util/result.hpp"

namespace btfd::server {

// How mirrors are reached: [Hub] for all, a [Mirror "URL-PREFIX"] section for the
// mirrors whose URL starts with the prefix (the longest prefix wins). Each key
// is a path or a host list; "" leaves it to the level below. Credentials are
// files: a relative name is one of the unit's credentials ($CREDENTIALS_DIRECTORY,
// systemd's LoadCredential=).
struct MirrorNetwork {
  std::string proxy, no_proxy, ca_file, client_cert, client_key, bearer_token_file, basic_auth_file, proxy_auth_file;
};

// Where a key's value came from, for --dump-config: "FILE:LINE" or "--flag"
// (keys at their default have none). Section.Key as in the key table.
using ConfigOrigins = std::map<std::string, std::string>;

struct Config {
  // [Daemon]
  std::string socket_path;         // empty: socket activation, else the default socket
  // 0 = never exit when idle. Idle exit belongs to socket activation (systemd
  // starts btfd again on the next call): a btfd binding its own socket exits
  // when idle only when the key or --idle-exit was set.
  uint64_t idle_exit_sec = 300;
  bool idle_exit_set = false;
  unsigned workers = 4;
  std::string log_level = "info";
  std::string host_root;           // prefix for /etc/os-release and /sys (containers)
  std::string admin_socket;        // by hand: a second socket (mode 0660, group AllowGroup) for privileged calls
  // [Cache]
  std::string cache_dir;
  uint64_t cache_budget = 1ull << 30;
  uint64_t hot_kernel_budget = 256ull << 20;
  uint64_t hot_kernel_idle_sec = 60;
  // [Hub]
  std::vector<std::string> mirrors;
  uint64_t connect_timeout_ms = 5000;
  uint64_t timeout_ms = 120000;
  uint64_t max_download = 256ull << 20;
  // "Not in hub" is remembered for this long, and only for the mirror list that
  // said it: btfhub-archive gains kernels daily, and an hour bounds what a
  // mistake (a mirror down, a typo since fixed) can cost.
  uint64_t negative_ttl_sec = 3600;
  uint64_t max_kernel_size = 128ull << 20;  // unpacked; the largest real kernel BTF is ~44 MB
  // Calls that may wait on a mirror run in a lane of their own: this many at
  // once, at most queued_downloads more waiting (then Busy). The other calls
  // keep the Workers and never queue behind a mirror.
  unsigned downloads = 2;
  unsigned queued_downloads = 32;
  unsigned stall_timeout_sec = 20;  // a mirror sending < 1 KiB/s this long (or nothing at all) fails the attempt
  MirrorNetwork network;                                         // [Hub] Proxy=, CAFile=, ...
  std::vector<std::pair<std::string, MirrorNetwork>> mirror_network;  // [Mirror "PREFIX"], in file order
  std::vector<hub::Transport> transports;  // per mirror, resolved by finish_config
  // [Distro] The os-release -> archive directory table: the file (the installed
  // one by default; the built-in copy when it is absent), then btfd.conf's
  // Map= and Alias= lines ("map ..." / "alias ..." in the file's format) on top.
  std::string distro_table;
  bool distro_table_required = false;  // set explicitly: missing is an error
  std::vector<std::string> distro_lines;
  DistroMap distros = DistroMap::builtin();
  // [Limits] Every resource a client controls, per client (UID) and in total.
  unsigned max_connections = 256;
  unsigned max_connections_per_user = 64;
  unsigned max_objects = 16;
  // Cache entries one bundle import may create (kernels x (objects + 1)); each
  // costs an index row of up to ~1.2 KiB, and all go in one transaction.
  uint64_t max_import_entries = 65536;
  uint64_t max_object_size = 64ull << 20;
  uint64_t max_object_bytes_per_user = 128ull << 20;  // objects being read or minimized
  uint64_t max_object_bytes = 256ull << 20;
  // Objects kept to pre-minimize new kernels, per uid that sent them (root
  // too): beyond either bound that uid's least recently sent are forgotten.
  uint64_t remembered_objects_per_user = 64;
  uint64_t remembered_object_bytes_per_user = 64ull << 20;
  uint64_t object_read_sec = 10;                       // total, for all objects of a call
  unsigned max_inflight_per_connection = 4;
  uint64_t max_fds_per_user = 128;                     // descriptors held: unfinished messages + calls
  uint64_t max_fds = 1024;
  uint64_t max_reply_bytes = 64ull << 20;              // unread replies queued, all clients together
  uint64_t connection_idle_sec = 60;
  uint64_t send_timeout_sec = 30;                      // a client that reads none of its replies for this long is dropped
  uint64_t message_timeout_sec = 30;                   // a message must arrive whole within this time
  uint64_t hub_lookups_per_minute = 30;                // per UID (not for root): misses sent to the hub
  // Calls queued or running on workers (or reading objects), per UID and in
  // total, whatever connections they came on: bounds every queue.
  uint64_t max_calls_per_user = 16;
  uint64_t max_calls = 128;
  // The minimizer's budget per call (btf::MinimizeBudget): relocations, the
  // report's bytes, wall time and the memory it accounts for a client's objects.
  uint64_t max_relocations = 65536;
  uint64_t max_report_bytes = 1ull << 20;
  uint64_t minimize_sec = 20;
  uint64_t minimize_memory = 256ull << 20;
  // New heavy work is refused (Busy) when btfd's memory passes 85% of this;
  // 0: its cgroup's memory.max (btfd.service's MemoryMax=), if any.
  uint64_t memory_limit = 0;
  // [Access]
  std::string allow_group;         // may Prefetch and GarbageCollect besides root
  gid_t allow_gid = static_cast<gid_t>(-1);
  // [Upgrade]
  bool verify_checksums = true;      // against a mirror's SHA256SUMS, when it publishes one
  uint64_t object_window_days = 30;
  uint64_t prefetch_retry_sec = 5;   // first delay before retrying a failed prefetch; doubles, 5 tries
  std::vector<std::string> module_dirs{"/lib/modules", "/usr/lib/modules"};
  std::string boot_dir = "/boot";
  // [Debuginfo] A kernel neither native nor in the hub gets its BTF from its
  // installed debug file (linux-image-*-dbg, kernel-debuginfo) through pahole,
  // a bounded child: engine/debuginfo/.
  bool debuginfo_enable = true;
  std::string pahole_path = "/usr/bin/pahole";
  uint64_t pahole_memory = 1536ull << 20;  // its address space; it shares btfd's MemoryMax=
  uint64_t pahole_sec = 600;               // wall and CPU time of one run
  // [Debuginfod] Off by default: servers asked for the running kernel's debug
  // file by its build-id (btfd-fetch downloads it, like a mirror's file).
  std::vector<std::string> debuginfod_urls;
  uint64_t debuginfod_max_size = 2ull << 30;  // a real vmlinux's debug file is 0.5-1 GB
  uint64_t debuginfod_timeout_sec = 1800;
  std::vector<hub::Transport> debuginfod_transports;  // per URL, resolved as mirrors' are
  // [Transparent] Off by default. btfctl transparent (root: the kernel hooks,
  // btfd-transparent.service) installs btfd's BTF where unmodified libbpf and
  // cilium/ebpf look; the daemon never writes there.
  bool transparent_enable = false;
  std::string transparent_path = "/lib/modules/%v/vmlinux-%v";  // transparent/transparent_file.hpp says why
  ConfigOrigins origins;
};

Config default_config();
// Applies a config file's text; unknown sections/keys are errors naming the line
// and, for a bad value, the allowed values or range.
Status apply_config_text(Config& cfg, std::string_view text, const std::string& origin);
// Parses argv; returns false and sets *exit_code when the program should exit
// (--help, --version, bad flag).
Result<bool> apply_flags(Config& cfg, int argc, char** argv, int* exit_code);
// After the file and the flags: loads the distro table and checks every
// mirror's scheme and, for local ones, that the directory exists (apply_flags
// calls it; remote mirrors are not contacted, so an offline host still starts).
Status finish_config(Config& cfg);
// Each mirror's Transport: [Hub]'s network keys with the longest matching
// [Mirror "PREFIX"] on top, credential names resolved in credentials_dir (the
// unit's $CREDENTIALS_DIRECTORY), every file checked readable. A section that
// matches no mirror is an error (a typo would silently send no credentials).
Result<std::vector<hub::Transport>> mirror_transports(const Config& cfg, const char* credentials_dir);
// Each Debuginfod.URLs server's Transport, as mirror_transports (http and https only).
Result<std::vector<hub::Transport>> debuginfod_transports(const Config& cfg, const char* credentials_dir);
// The distro table part alone (btfctl host shows the archive path with it).
Status load_distro_table(Config& cfg);
// "4096", "64M", "1G", "1GiB" -> bytes (systemd's suffixes, base 1024).
Result<uint64_t> parse_size(std::string_view text);
// Bytes back to the shortest exact form parse_size reads: 1073741824 -> "1G".
std::string format_size(uint64_t bytes);
// The main file (an error if missing only when `required`), then PATH.d/*.conf
// in name order; each error names file:line.
Status load_config_files(Config& cfg, const std::string& path, bool required);
// Every key "Section.Key" btfd.conf knows, and the configuration written back in
// btfd.conf syntax (btfd --dump-config).
std::vector<std::string> config_key_names();
std::string dump_config(const Config& cfg);
// Under btfd.service, BTFD_UNIT_HIDES ("PREFIX:WHY ...") names what the sandbox
// hides (PrivateTmp=, ProtectHome=): a local mirror there would look empty, so it
// is refused at start-up with the reason.
Status check_mirror_visible(const std::string& mirror, std::string_view hidden);

}  // namespace btfd::server
