// SPDX-License-Identifier: GPL-2.0-or-later
#include "server/config.hpp"

#include <getopt.h>
#include <grp.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <map>

#include "btfd-config.h"
#include "hub/mirror.hpp"
#include "util/fd.hpp"

namespace btfd::server {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

Result<uint64_t> parse_uint(std::string_view t) {
  if (t.empty()) return make_error(Errc::invalid_argument, "empty number");
  uint64_t v = 0;
  for (char c : t) {
    if (c < '0' || c > '9') return make_error(Errc::invalid_argument, "\"" + std::string(t) + "\" is not a number");
    if (v > (UINT64_MAX - 9) / 10) return make_error(Errc::invalid_argument, "\"" + std::string(t) + "\" is too large");
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

using Setter = std::function<Status(Config&, std::string_view)>;

Setter size_key(uint64_t Config::*field) {
  return [field](Config& c, std::string_view v) -> Status {
    BTFD_TRY(c.*field, parse_size(v));
    return {};
  };
}
Setter uint_key(uint64_t Config::*field) {
  return [field](Config& c, std::string_view v) -> Status {
    BTFD_TRY(c.*field, parse_uint(v));
    return {};
  };
}
Setter unsigned_key(unsigned Config::*field) {
  return [field](Config& c, std::string_view v) -> Status {
    BTFD_TRY(uint64_t n, parse_uint(v));
    if (n == 0 || n > 65536) return make_error(Errc::invalid_argument, "value out of range");
    c.*field = static_cast<unsigned>(n);
    return {};
  };
}
Setter bool_key(bool Config::*field) {
  return [field](Config& c, std::string_view v) -> Status {
    // systemd's spellings
    if (v == "yes" || v == "true" || v == "on" || v == "1") c.*field = true;
    else if (v == "no" || v == "false" || v == "off" || v == "0") c.*field = false;
    else return make_error(Errc::invalid_argument, "expected yes or no");
    return {};
  };
}
Setter string_key(std::string Config::*field) {
  return [field](Config& c, std::string_view v) -> Status {
    c.*field = std::string(v);
    return {};
  };
}
Setter list_key(std::vector<std::string> Config::*field) {
  return [field](Config& c, std::string_view v) -> Status {
    (c.*field).clear();
    while (!v.empty()) {
      v = trim(v);
      size_t sp = v.find_first_of(" \t");
      if (!v.substr(0, sp).empty()) (c.*field).emplace_back(v.substr(0, sp));
      if (sp == std::string_view::npos) break;
      v.remove_prefix(sp);
    }
    return {};
  };
}

// Map= and Alias= add lines to the table; each keeps the file's syntax.
Setter table_line_key(const char* keyword) {
  return [keyword](Config& c, std::string_view v) -> Status {
    std::string line = std::string(keyword) + " " + std::string(v);
    BTFD_TRY_VOID(DistroMap::parse(line, keyword));
    c.distro_lines.push_back(std::move(line));
    return {};
  };
}

const std::map<std::string, Setter>& keys() {
  static const std::map<std::string, Setter> k = {
      {"Daemon.Socket", string_key(&Config::socket_path)},
      {"Daemon.IdleExitSec", uint_key(&Config::idle_exit_sec)},
      {"Daemon.Workers", unsigned_key(&Config::workers)},
      {"Daemon.LogLevel", string_key(&Config::log_level)},
      {"Daemon.HostRoot", string_key(&Config::host_root)},
      {"Cache.Directory", string_key(&Config::cache_dir)},
      {"Cache.MaxSize", size_key(&Config::cache_budget)},
      {"Cache.HotKernelsMemory", size_key(&Config::hot_kernel_budget)},
      {"Cache.HotKernelIdleSec", uint_key(&Config::hot_kernel_idle_sec)},
      {"Hub.Mirrors", list_key(&Config::mirrors)},
      {"Hub.ConnectTimeoutMSec", uint_key(&Config::connect_timeout_ms)},
      {"Hub.TimeoutMSec", uint_key(&Config::timeout_ms)},
      {"Hub.MaxDownloadSize", size_key(&Config::max_download)},
      {"Hub.NegativeCacheSec", uint_key(&Config::negative_ttl_sec)},
      {"Hub.VerifyChecksums", bool_key(&Config::verify_checksums)},
      {"Daemon.AdminSocket", string_key(&Config::admin_socket)},
      {"Hub.MaxKernelSize", size_key(&Config::max_kernel_size)},
      {"Distro.Table", [](Config& c, std::string_view v) -> Status {
         c.distro_table = std::string(v);
         c.distro_table_required = true;
         return {};
       }},
      {"Distro.Map", table_line_key("map")},
      {"Distro.Alias", table_line_key("alias")},
      {"Limits.MaxConnections", unsigned_key(&Config::max_connections)},
      {"Limits.MaxConnectionsPerUser", unsigned_key(&Config::max_connections_per_user)},
      {"Limits.MaxObjectBytesPerUser", size_key(&Config::max_object_bytes_per_user)},
      {"Limits.MaxObjectBytes", size_key(&Config::max_object_bytes)},
      {"Limits.ObjectReadSec", uint_key(&Config::object_read_sec)},
      {"Limits.MaxDescriptorsPerUser", uint_key(&Config::max_fds_per_user)},
      {"Limits.MaxDescriptors", uint_key(&Config::max_fds)},
      {"Limits.MaxQueuedReplyBytes", size_key(&Config::max_reply_bytes)},
      {"Limits.SendTimeoutSec", uint_key(&Config::send_timeout_sec)},
      {"Limits.MessageTimeoutSec", uint_key(&Config::message_timeout_sec)},
      {"Limits.HubLookupsPerMinute", uint_key(&Config::hub_lookups_per_minute)},
      {"Limits.MaxObjectsPerRequest", unsigned_key(&Config::max_objects)},
      {"Limits.MaxObjectSize", size_key(&Config::max_object_size)},
      {"Limits.MaxInFlightPerConnection", unsigned_key(&Config::max_inflight_per_connection)},
      {"Limits.ConnectionIdleSec", uint_key(&Config::connection_idle_sec)},
      {"Access.AllowGroup", string_key(&Config::allow_group)},
      {"Upgrade.ObjectWindowDays", uint_key(&Config::object_window_days)},
      {"Upgrade.RetrySec", uint_key(&Config::prefetch_retry_sec)},
      {"Upgrade.ModuleDirectories", list_key(&Config::module_dirs)},
      {"Upgrade.BootDirectory", string_key(&Config::boot_dir)},
  };
  return k;
}

}  // namespace

Result<uint64_t> parse_size(std::string_view text) {
  text = trim(text);
  uint64_t mult = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K': case 'k': mult = 1ull << 10; break;
      case 'M': case 'm': mult = 1ull << 20; break;
      case 'G': case 'g': mult = 1ull << 30; break;
      case 'T': case 't': mult = 1ull << 40; break;
      default: break;
    }
    if (mult != 1) text.remove_suffix(1);
  }
  BTFD_TRY(uint64_t n, parse_uint(text));
  if (n > UINT64_MAX / mult) return make_error(Errc::invalid_argument, "size too large");
  return n * mult;
}

Config default_config() {
  Config c;
  c.cache_dir = BTFD_DEFAULT_CACHE_DIR;
  c.distro_table = BTFD_DEFAULT_DISTRO_TABLE;
  (void)list_key(&Config::mirrors)(c, BTFD_DEFAULT_HUB);  // space separated, tried in order
  return c;
}

Status apply_config_text(Config& cfg, std::string_view text, const std::string& origin) {
  std::string section;
  int lineno = 0;
  while (!text.empty()) {
    ++lineno;
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    auto where = [&] { return origin + ":" + std::to_string(lineno) + ": "; };
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') return make_error(Errc::invalid_argument, where() + "malformed section header");
      section = std::string(line.substr(1, line.size() - 2));
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return make_error(Errc::invalid_argument, where() + "expected Key=Value");
    std::string key = section + "." + std::string(trim(line.substr(0, eq)));
    auto it = keys().find(key);
    if (it == keys().end()) return make_error(Errc::invalid_argument, where() + "unknown key \"" + key + "\"");
    if (auto st = it->second(cfg, trim(line.substr(eq + 1))); !st)
      return make_error(Errc::invalid_argument, where() + key + ": " + st.error().message);
  }
  return {};
}

Status finish_config(Config& cfg) {
  for (const auto& m : cfg.mirrors) BTFD_TRY_VOID(hub::validate_mirror(m));
  return load_distro_table(cfg);
}

Status load_distro_table(Config& cfg) {
  DistroMap map = DistroMap::builtin();
  if (!cfg.distro_table.empty()) {
    auto text = read_text_file(cfg.distro_table, 1 << 20);
    if (text) {
      BTFD_TRY(map, DistroMap::parse(*text, cfg.distro_table));
    } else if (cfg.distro_table_required || text.error().code != Errc::not_found) {
      return std::move(text).error();
    }
  }
  std::string lines;
  for (const auto& l : cfg.distro_lines) lines += l + "\n";
  BTFD_TRY(DistroMap site, DistroMap::parse(lines, "btfd.conf [Distro]"));
  map.overlay(site);
  cfg.distros = std::move(map);
  return {};
}

static void usage() {
  std::printf(
      "Usage: btfd [OPTIONS]\n\n"
      "Serves kernel BTF (minimized for BPF objects on request) over a Varlink socket.\n\n"
      "  --config FILE          configuration file (default " BTFD_DEFAULT_CONFIG ")\n"
      "  --socket PATH          bind this socket instead of using socket activation\n"
      "  --cache-dir DIR        cache directory (default " BTFD_DEFAULT_CACHE_DIR ")\n"
      "  --cache-budget SIZE    cache size budget, e.g. 512M (default 1G)\n"
      "  --mirror URL|DIR       hub mirror; repeat for several (replaces the configured list)\n"
      "  --connect-timeout MS   hub connect timeout\n"
      "  --timeout MS           hub total timeout per download\n"
      "  --idle-exit SEC        exit after SEC idle seconds (0 = never, default 300)\n"
      "  --host-root DIR        host filesystem prefix (for agents in containers)\n"
      "  --workers N            worker threads (default 4)\n"
      "  --allow-group GROUP    group allowed to Prefetch, Refresh and GarbageCollect besides root\n"
      "  --admin-socket PATH    also bind PATH (mode 0660, group GROUP) for privileged calls\n"
      "  --modules-dir DIR      modules directory to watch for new kernels (repeatable)\n"
      "  --boot-dir DIR         boot directory to watch for new kernels\n"
      "  --log-level LEVEL      error, warning, notice, info, debug\n"
      "  --version              print the version and exit\n");
}

Result<bool> apply_flags(Config& cfg, int argc, char** argv, int* exit_code) {
  enum {
    kConfig = 256, kSocket, kCacheDir, kBudget, kMirror, kConnect, kTimeout, kIdle, kHostRoot, kWorkers, kGroup,
    kLog, kVersion, kHelp, kModules, kBoot, kAdmin
  };
  static const struct option opts[] = {
      {"config", required_argument, nullptr, kConfig},    {"socket", required_argument, nullptr, kSocket},
      {"cache-dir", required_argument, nullptr, kCacheDir}, {"cache-budget", required_argument, nullptr, kBudget},
      {"mirror", required_argument, nullptr, kMirror},    {"connect-timeout", required_argument, nullptr, kConnect},
      {"timeout", required_argument, nullptr, kTimeout},  {"idle-exit", required_argument, nullptr, kIdle},
      {"host-root", required_argument, nullptr, kHostRoot}, {"workers", required_argument, nullptr, kWorkers},
      {"allow-group", required_argument, nullptr, kGroup}, {"log-level", required_argument, nullptr, kLog},
      {"modules-dir", required_argument, nullptr, kModules}, {"boot-dir", required_argument, nullptr, kBoot},
      {"admin-socket", required_argument, nullptr, kAdmin},
      {"version", no_argument, nullptr, kVersion},        {"help", no_argument, nullptr, kHelp},
      {nullptr, 0, nullptr, 0},
  };
  // First pass: the config file, so that flags override it whatever their order.
  std::string config_path = BTFD_DEFAULT_CONFIG;
  bool explicit_config = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) config_path = argv[++i], explicit_config = true;
    else if (a.rfind("--config=", 0) == 0) config_path = a.substr(9), explicit_config = true;
  }
  auto text = read_text_file(config_path, 1 << 20);
  if (text) {
    BTFD_TRY_VOID(apply_config_text(cfg, *text, config_path));
  } else if (explicit_config || text.error().code != Errc::not_found) {
    return std::move(text).error();
  }
  bool mirrors_from_flags = false;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, "h", opts, nullptr)) != -1) {
    std::string v = optarg ? optarg : "";
    Status st;
    switch (c) {
      case kConfig: break;
      case kSocket: cfg.socket_path = v; break;
      case kCacheDir: cfg.cache_dir = v; break;
      case kBudget: {
        auto s = parse_size(v);
        if (!s) st = std::move(s).error();
        else cfg.cache_budget = *s;
        break;
      }
      case kMirror:
        if (!mirrors_from_flags) cfg.mirrors.clear();
        mirrors_from_flags = true;
        cfg.mirrors.push_back(v);
        break;
      case kConnect: st = keys().at("Hub.ConnectTimeoutMSec")(cfg, v); break;
      case kTimeout: st = keys().at("Hub.TimeoutMSec")(cfg, v); break;
      case kIdle: st = keys().at("Daemon.IdleExitSec")(cfg, v); break;
      case kHostRoot: cfg.host_root = v; break;
      case kWorkers: st = keys().at("Daemon.Workers")(cfg, v); break;
      case kGroup: cfg.allow_group = v; break;
      case kLog: cfg.log_level = v; break;
      case kModules: {
        static bool first = true;
        if (first) cfg.module_dirs.clear();
        first = false;
        cfg.module_dirs.push_back(v);
        break;
      }
      case kBoot: cfg.boot_dir = v; break;
      case kAdmin: cfg.admin_socket = v; break;
      case kVersion:
        std::printf("btfd %s\n", BTFD_VERSION);
        *exit_code = 0;
        return false;
      case kHelp:
      case 'h':
        usage();
        *exit_code = 0;
        return false;
      default:
        *exit_code = 2;
        return false;
    }
    if (!st) return std::move(st).error().wrap("--" + std::string(opts[c - kConfig].name));
  }
  if (optind < argc) return make_error(Errc::invalid_argument, "unexpected argument \"" + std::string(argv[optind]) + "\"");
  if (!cfg.allow_group.empty()) {
    // A name, or a number (a group that exists only inside a container).
    if (struct group* g = ::getgrnam(cfg.allow_group.c_str())) {
      cfg.allow_gid = g->gr_gid;
    } else if (auto n = parse_uint(cfg.allow_group); n && *n < static_cast<uint64_t>(static_cast<gid_t>(-1))) {
      cfg.allow_gid = static_cast<gid_t>(*n);
    } else {
      return make_error(Errc::invalid_argument, "unknown group \"" + cfg.allow_group + "\"");
    }
  }
  BTFD_TRY_VOID(finish_config(cfg));
  return true;
}

}  // namespace btfd::server
