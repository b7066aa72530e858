// SPDX-License-Identifier: GPL-2.0-or-later
#include "config/config.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "btfd-config.h"
#include "hub/mirror.hpp"
#include "proto/varlink.hpp"
#include "transparent/transparent_file.hpp"
#include "util/fd.hpp"

namespace btfd::server {
namespace {

constexpr size_t kMaxConfigFile = 1 << 20;
constexpr size_t kMaxDropIns = 256;

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
using Getter = std::function<std::string(const Config&)>;

// A btfd.conf key: how to set it from text, and how to write its current value
// back in the same syntax (btfd --dump-config, and the test that the shipped
// btfd.conf, uncommented, is exactly the defaults).
struct Key {
  Setter set;
  Getter get;
  Key(Setter s, Getter g = {}) : set(std::move(s)), get(std::move(g)) {}
};

Key size_key(uint64_t Config::*field, uint64_t min = 0, const char* why = "") {
  return {[field, min, why](Config& c, std::string_view v) -> Status {
            BTFD_TRY(uint64_t n, parse_size(v));
            if (n < min)
              return make_error(Errc::invalid_argument,
                                std::string(v) + " is below the minimum " + format_size(min) + " (" + why + ")");
            c.*field = n;
            return {};
          },
          [field](const Config& c) { return format_size(c.*field); }};
}
Key uint_key(uint64_t Config::*field) {
  return {[field](Config& c, std::string_view v) -> Status {
            BTFD_TRY(c.*field, parse_uint(v));
            return {};
          },
          [field](const Config& c) { return std::to_string(c.*field); }};
}
Key unsigned_key(unsigned Config::*field) {
  return {[field](Config& c, std::string_view v) -> Status {
            BTFD_TRY(uint64_t n, parse_uint(v));
            if (n == 0 || n > 65536)
              return make_error(Errc::invalid_argument, std::to_string(n) + " is out of range (1 to 65536)");
            c.*field = static_cast<unsigned>(n);
            return {};
          },
          [field](const Config& c) { return std::to_string(c.*field); }};
}
Key bool_key(bool Config::*field) {
  return {[field](Config& c, std::string_view v) -> Status {
            // systemd's spellings
            if (v == "yes" || v == "true" || v == "on" || v == "1") c.*field = true;
            else if (v == "no" || v == "false" || v == "off" || v == "0") c.*field = false;
            else return make_error(Errc::invalid_argument, "\"" + std::string(v) + "\" is not yes or no");
            return {};
          },
          [field](const Config& c) { return std::string(c.*field ? "yes" : "no"); }};
}
Key string_key(std::string Config::*field) {
  return {[field](Config& c, std::string_view v) -> Status {
            c.*field = std::string(v);
            return {};
          },
          [field](const Config& c) { return c.*field; }};
}
// One of a fixed set of words (the allowed ones are named in the error).
Key choice_key(std::string Config::*field, std::vector<std::string> allowed) {
  return {[field, allowed](Config& c, std::string_view v) -> Status {
            for (const auto& a : allowed)
              if (v == a) {
                c.*field = a;
                return {};
              }
            std::string list;
            for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
            return make_error(Errc::invalid_argument, "\"" + std::string(v) + "\" is not one of " + list);
          },
          [field](const Config& c) { return c.*field; }};
}
Key list_key(std::vector<std::string> Config::*field) {
  return {[field](Config& c, std::string_view v) -> Status {
            (c.*field).clear();
            while (!v.empty()) {
              v = trim(v);
              size_t sp = v.find_first_of(" \t");
              if (!v.substr(0, sp).empty()) (c.*field).emplace_back(v.substr(0, sp));
              if (sp == std::string_view::npos) break;
              v.remove_prefix(sp);
            }
            return {};
          },
          [field](const Config& c) {
            std::string out;
            for (const auto& e : c.*field) out += (out.empty() ? "" : " ") + e;
            return out;
          }};
}

// Map= and Alias= add lines to the table; each keeps the file's syntax. An
// empty assignment drops the lines set so far (systemd's rule for lists).
Key table_line_key(const char* keyword) {
  return {[keyword](Config& c, std::string_view v) -> Status {
            if (v.empty()) {
              std::erase_if(c.distro_lines, [&](const std::string& l) { return l.rfind(keyword, 0) == 0; });
              return {};
            }
            std::string line = std::string(keyword) + " " + std::string(v);
            BTFD_TRY_VOID(DistroMap::parse(line, keyword));
            c.distro_lines.push_back(std::move(line));
            return {};
          },
          [keyword](const Config& c) {
            std::string out;
            for (const auto& l : c.distro_lines)
              if (l.rfind(keyword, 0) == 0) out += (out.empty() ? "" : "\n") + l.substr(std::strlen(keyword) + 1);
            return out;
          }};
}

// The keys of [Hub] that a [Mirror "PREFIX"] section may set for its mirrors.
struct NetworkKey {
  const char* name;
  std::string MirrorNetwork::*field;
};
constexpr NetworkKey kNetworkKeys[] = {
    {"Proxy", &MirrorNetwork::proxy},
    {"NoProxy", &MirrorNetwork::no_proxy},
    {"CAFile", &MirrorNetwork::ca_file},
    {"ClientCertificate", &MirrorNetwork::client_cert},
    {"ClientKey", &MirrorNetwork::client_key},
    {"BearerTokenFile", &MirrorNetwork::bearer_token_file},
    {"BasicAuthFile", &MirrorNetwork::basic_auth_file},
    {"ProxyAuthFile", &MirrorNetwork::proxy_auth_file},
};
Key network_key(std::string MirrorNetwork::*field) {
  return {[field](Config& c, std::string_view v) -> Status {
            c.network.*field = std::string(v);
            return {};
          },
          [field](const Config& c) { return c.network.*field; }};
}

// [Mirror "PREFIX"] -> PREFIX, or nothing for any other section.
std::optional<std::string> mirror_section(std::string_view section) {
  constexpr std::string_view head = "Mirror \"";
  if (section.size() <= head.size() + 1 || section.substr(0, head.size()) != head || section.back() != '"')
    return std::nullopt;
  return std::string(section.substr(head.size(), section.size() - head.size() - 1));
}

Status set_mirror_key(Config& cfg, const std::string& prefix, std::string_view name, std::string_view value) {
  auto key = std::find_if(std::begin(kNetworkKeys), std::end(kNetworkKeys),
                          [&](const NetworkKey& k) { return name == k.name; });
  if (key == std::end(kNetworkKeys)) {
    std::string list;
    for (const auto& k : kNetworkKeys) list += (list.empty() ? "" : ", ") + std::string(k.name);
    return make_error(Errc::invalid_argument, "unknown key \"" + std::string(name) + "\" (a [Mirror] section takes " + list + ")");
  }
  auto it = std::find_if(cfg.mirror_network.begin(), cfg.mirror_network.end(),
                         [&](const auto& m) { return m.first == prefix; });
  if (it == cfg.mirror_network.end()) it = cfg.mirror_network.insert(it, {prefix, {}});
  it->second.*(key->field) = std::string(value);
  return {};
}

const std::map<std::string, Key>& keys() {
  static const std::map<std::string, Key> k = {
      {"Hub.Proxy", network_key(&MirrorNetwork::proxy)},
      {"Hub.NoProxy", network_key(&MirrorNetwork::no_proxy)},
      {"Hub.CAFile", network_key(&MirrorNetwork::ca_file)},
      {"Hub.ClientCertificate", network_key(&MirrorNetwork::client_cert)},
      {"Hub.ClientKey", network_key(&MirrorNetwork::client_key)},
      {"Hub.BearerTokenFile", network_key(&MirrorNetwork::bearer_token_file)},
      {"Hub.BasicAuthFile", network_key(&MirrorNetwork::basic_auth_file)},
      {"Hub.ProxyAuthFile", network_key(&MirrorNetwork::proxy_auth_file)},
      {"Daemon.Socket", string_key(&Config::socket_path)},
      {"Daemon.IdleExitSec", {[](Config& c, std::string_view v) -> Status {
                                 BTFD_TRY_VOID(uint_key(&Config::idle_exit_sec).set(c, v));
                                 c.idle_exit_set = true;
                                 return {};
                               },
                               uint_key(&Config::idle_exit_sec).get}},
      {"Daemon.Workers", unsigned_key(&Config::workers)},
      {"Daemon.LogLevel", choice_key(&Config::log_level, {"error", "warning", "notice", "info", "debug"})},
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
      {"Hub.Downloads", unsigned_key(&Config::downloads)},
      {"Hub.QueuedDownloads", unsigned_key(&Config::queued_downloads)},
      {"Hub.StallTimeoutSec", unsigned_key(&Config::stall_timeout_sec)},
      {"Distro.Table", {[](Config& c, std::string_view v) -> Status {
                          c.distro_table = std::string(v);
                          c.distro_table_required = true;
                          return {};
                        },
                        [](const Config& c) { return c.distro_table; }}},
      {"Distro.Map", table_line_key("map")},
      {"Distro.Alias", table_line_key("alias")},
      {"Limits.MaxConnections", unsigned_key(&Config::max_connections)},
      {"Limits.MaxConnectionsPerUser", unsigned_key(&Config::max_connections_per_user)},
      {"Limits.MaxObjectBytesPerUser", size_key(&Config::max_object_bytes_per_user)},
      {"Limits.MaxObjectBytes", size_key(&Config::max_object_bytes)},
      {"Limits.RememberedObjectsPerUser", uint_key(&Config::remembered_objects_per_user)},
      {"Limits.RememberedObjectBytesPerUser", size_key(&Config::remembered_object_bytes_per_user)},
      {"Limits.ObjectReadSec", uint_key(&Config::object_read_sec)},
      {"Limits.MaxDescriptorsPerUser", uint_key(&Config::max_fds_per_user)},
      {"Limits.MaxDescriptors", uint_key(&Config::max_fds)},
      {"Limits.MaxQueuedReplyBytes",
       size_key(&Config::max_reply_bytes, 2 * proto::kMaxReplyBytes, "two of the largest replies")},
      {"Limits.SendTimeoutSec", uint_key(&Config::send_timeout_sec)},
      {"Limits.MessageTimeoutSec", uint_key(&Config::message_timeout_sec)},
      {"Limits.HubLookupsPerMinute", uint_key(&Config::hub_lookups_per_minute)},
      {"Limits.MaxObjectsPerRequest", unsigned_key(&Config::max_objects)},
      {"Limits.MaxImportEntries", uint_key(&Config::max_import_entries)},
      {"Limits.MaxObjectSize", size_key(&Config::max_object_size)},
      {"Limits.MaxInFlightPerConnection", unsigned_key(&Config::max_inflight_per_connection)},
      {"Limits.ConnectionIdleSec", uint_key(&Config::connection_idle_sec)},
      {"Limits.MaxCallsPerUser", uint_key(&Config::max_calls_per_user)},
      {"Limits.MaxCalls", uint_key(&Config::max_calls)},
      {"Limits.MaxRelocations", uint_key(&Config::max_relocations)},
      {"Limits.MaxReportBytes", size_key(&Config::max_report_bytes)},
      {"Limits.MinimizeSec", uint_key(&Config::minimize_sec)},
      {"Limits.MinimizeMemory", size_key(&Config::minimize_memory)},
      {"Limits.MemoryLimit", size_key(&Config::memory_limit)},
      {"Access.AllowGroup", string_key(&Config::allow_group)},
      {"Upgrade.ObjectWindowDays", uint_key(&Config::object_window_days)},
      {"Upgrade.RetrySec", uint_key(&Config::prefetch_retry_sec)},
      {"Upgrade.ModuleDirectories", list_key(&Config::module_dirs)},
      {"Upgrade.BootDirectory", string_key(&Config::boot_dir)},
      {"Debuginfo.Enable", bool_key(&Config::debuginfo_enable)},
      {"Debuginfo.Pahole", string_key(&Config::pahole_path)},
      {"Debuginfo.PaholeMemory", size_key(&Config::pahole_memory, 64ull << 20, "pahole cannot start in less")},
      {"Debuginfo.PaholeSec", uint_key(&Config::pahole_sec)},
      {"Debuginfod.URLs", list_key(&Config::debuginfod_urls)},
      {"Debuginfod.MaxSize", size_key(&Config::debuginfod_max_size)},
      {"Debuginfod.TimeoutSec", uint_key(&Config::debuginfod_timeout_sec)},
      {"Transparent.Enable", bool_key(&Config::transparent_enable)},
      {"Transparent.Path", {[](Config& c, std::string_view v) -> Status {
                              BTFD_TRY_VOID(transparent::validate_path_template(v));
                              c.transparent_path = std::string(v);
                              return {};
                            },
                            [](const Config& c) { return c.transparent_path; }}},
  };
  return k;
}

}  // namespace

Result<uint64_t> parse_size(std::string_view text) {
  text = trim(text);
  // systemd's size suffixes (base 1024): K, M, G, T, optionally spelled KiB...
  static const struct {
    const char* suffix;
    int shift;
  } suffixes[] = {{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}, {"K", 10}, {"M", 20}, {"G", 30},
                  {"T", 40},   {"k", 10},   {"m", 20},   {"g", 30},   {"t", 40},  {"B", 0}};
  std::string_view digits = text;
  int shift = 0;
  for (const auto& s : suffixes) {
    std::string_view suf = s.suffix;
    if (digits.size() > suf.size() && digits.ends_with(suf)) {
      digits.remove_suffix(suf.size());
      shift = s.shift;
      break;
    }
  }
  auto n = parse_uint(trim(digits));
  if (!n)
    return make_error(Errc::invalid_argument,
                      "\"" + std::string(text) + "\" is not a size (bytes, or with K, M, G, T: 512M, 1G, 1GiB)");
  if (*n > (UINT64_MAX >> shift)) return make_error(Errc::invalid_argument, "\"" + std::string(text) + "\" is too large");
  return *n << shift;
}

std::string format_size(uint64_t bytes) {
  static const char* units[] = {"", "K", "M", "G", "T"};
  int u = 0;
  while (u < 4 && bytes != 0 && bytes % 1024 == 0) bytes /= 1024, ++u;
  return std::to_string(bytes) + units[u];
}

std::vector<std::string> config_key_names() {
  std::vector<std::string> names;
  for (const auto& [name, key] : keys()) names.push_back(name);
  return names;
}

std::string dump_config(const Config& cfg) {
  // Grouped by section, in the table's (sorted) order.
  std::string out, section;
  for (const auto& [name, key] : keys()) {
    size_t dot = name.find('.');
    std::string sec = name.substr(0, dot);
    if (sec != section) {
      out += (section.empty() ? "[" : "\n[") + sec + "]\n";
      section = sec;
    }
    std::string value = key.get ? key.get(cfg) : "";
    // Which file (and line) or flag set it; a key without one is at its default.
    if (auto o = cfg.origins.find(name); o != cfg.origins.end()) out += "# set by " + o->second + "\n";
    // Repeatable keys (one value a line) are written one assignment each.
    size_t start = 0;
    do {
      size_t nl = value.find('\n', start);
      out += name.substr(dot + 1) + "=" + value.substr(start, nl == std::string::npos ? nl : nl - start) + "\n";
      start = nl == std::string::npos ? nl : nl + 1;
    } while (start != std::string::npos);
  }
  for (const auto& [prefix, net] : cfg.mirror_network) {
    out += "\n[Mirror \"" + prefix + "\"]\n";
    for (const auto& k : kNetworkKeys)
      if (!(net.*(k.field)).empty()) out += std::string(k.name) + "=" + net.*(k.field) + "\n";
  }
  return out;
}

Config default_config() {
  Config c;
  c.cache_dir = BTFD_DEFAULT_CACHE_DIR;
  c.distro_table = BTFD_DEFAULT_DISTRO_TABLE;
  (void)list_key(&Config::mirrors).set(c, BTFD_DEFAULT_HUB);  // space separated, tried in order
  return c;
}

namespace {
// Edits (insertions, deletions, substitutions) between a and b, ignoring case.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) == std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The known key nearest to an unknown one (a typo, a key in the wrong
// section), when one is near enough to be meant: " (did you mean ...?)".
std::string nearest_key(const std::string& unknown) {
  std::string best;
  size_t best_d = std::max<size_t>(3, unknown.size() / 4) + 1;
  std::string_view bare = std::string_view(unknown).substr(unknown.find('.') + 1);
  for (const auto& [name, _] : keys()) {
    size_t d = edit_distance(unknown, name);
    // The right key under another section ("Hub.MaxCalls") is meant too.
    if (d >= best_d && edit_distance(bare, std::string_view(name).substr(name.find('.') + 1)) == 0) d = 1;
    if (d < best_d) best_d = d, best = name;
  }
  if (best.empty()) return {};
  size_t dot = best.find('.');
  return " (did you mean " + best.substr(dot + 1) + "= in [" + best.substr(0, dot) + "]?)";
}
}  // namespace

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
    if (auto prefix = mirror_section(section)) {
      if (auto st = set_mirror_key(cfg, *prefix, trim(line.substr(0, eq)), trim(line.substr(eq + 1))); !st)
        return make_error(Errc::invalid_argument, where() + "[" + section + "]: " + st.error().message);
      continue;
    }
    std::string key = section + "." + std::string(trim(line.substr(0, eq)));
    auto it = keys().find(key);
    if (it == keys().end())
      return make_error(Errc::invalid_argument, where() + "unknown key \"" + key + "\"" + nearest_key(key));
    if (auto st = it->second.set(cfg, trim(line.substr(eq + 1))); !st)
      return make_error(Errc::invalid_argument, where() + key + ": " + st.error().message);
    cfg.origins[key] = origin + ":" + std::to_string(lineno);
  }
  return {};
}

Status load_config_files(Config& cfg, const std::string& path, bool required) {
  auto text = read_text_file(path, kMaxConfigFile);
  if (text) {
    BTFD_TRY_VOID(apply_config_text(cfg, *text, path));
  } else if (required || text.error().code != Errc::not_found) {
    return std::move(text).error();
  }
  // Drop-ins (systemd style): FILE.d/*.conf in name order, each on top of the last.
  const std::string dir = path + ".d";
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd) {
    if (errno == ENOENT || errno == ENOTDIR) return {};
    return make_error(Errc::io, "cannot read \"" + dir + "\": " + std::strerror(errno));
  }
  std::vector<std::string> names;
  DIR* d = ::fdopendir(dfd.release());
  if (!d) return make_error(Errc::io, "cannot read \"" + dir + "\": " + std::strerror(errno));
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n.size() > 5 && n.ends_with(".conf") && n[0] != '.') names.emplace_back(n);
  }
  ::closedir(d);
  if (names.size() > kMaxDropIns) {
    return make_error(Errc::invalid_argument, "\"" + dir + "\" holds " + std::to_string(names.size()) +
                                                  " drop-ins; btfd reads at most " + std::to_string(kMaxDropIns));
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    BTFD_TRY(std::string t, read_text_file(dir + "/" + n, kMaxConfigFile));
    BTFD_TRY_VOID(apply_config_text(cfg, t, dir + "/" + n));
  }
  return {};
}

Status check_mirror_visible(const std::string& mirror, std::string_view hidden) {
  std::string url = hub::mirror_base_url(mirror);
  if (url.rfind("file://", 0) != 0) return {};
  std::string path = url.substr(7);
  // "PREFIX:WHY PREFIX:WHY ...", as btfd.service sets it next to the settings it names.
  while (!hidden.empty()) {
    hidden = trim(hidden);
    size_t sp = hidden.find_first_of(" \t");
    std::string_view item = hidden.substr(0, sp);
    hidden = sp == std::string_view::npos ? std::string_view{} : hidden.substr(sp);
    size_t colon = item.find(':');
    std::string prefix(item.substr(0, colon));
    std::string why(colon == std::string_view::npos ? "the unit's sandbox" : item.substr(colon + 1));
    if (prefix.empty()) continue;
    if (path == prefix || path.rfind(prefix + "/", 0) == 0)
      return make_error(Errc::invalid_argument,
                        "mirror \"" + mirror + "\" is under " + prefix + ", which btfd.service hides (" + why +
                            "): move the mirror elsewhere, e.g. /srv/btfhub or /var/lib/btfhub");
  }
  return {};
}

namespace {

// A file a network key names: absolute, or a relative name that is one of the
// unit's credentials (LoadCredential=NAME:PATH puts it in $CREDENTIALS_DIRECTORY,
// readable by btfd's dynamic user while the source stays root's). It must be
// readable now; its contents are never read here.
Result<std::string> network_file(const char* key, const std::string& value, const char* credentials_dir) {
  if (value.empty()) return value;
  std::string path = value;
  if (value[0] != '/') {
    if (value.find('/') != std::string::npos || value == "." || value == "..")
      return make_error(Errc::invalid_argument, std::string(key) + "=" + value +
                                                    ": not an absolute path nor a credential name (LoadCredential=)");
    if (!credentials_dir || !*credentials_dir)
      return make_error(Errc::invalid_argument, std::string(key) + "=" + value +
                                                    ": a relative name is a systemd credential, but CREDENTIALS_DIRECTORY "
                                                    "is not set (add LoadCredential=" + value + ":PATH to btfd.service)");
    path = std::string(credentials_dir) + "/" + value;
  }
  if (::access(path.c_str(), R_OK) != 0)
    return sys_error(errno, std::string(key) + "=" + value + ": \"" + path + "\" cannot be read");
  return path;
}

// A prefix matches whole path segments only: "https://mirror.corp" matches
// "https://mirror.corp" and "https://mirror.corp/hub", never
// "https://mirror.corp.evil.org/..." (which would get the section's credentials).
bool prefix_matches(std::string prefix, const std::string& mirror) {
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  auto under = [&](const std::string& url) {
    return url.rfind(prefix, 0) == 0 && (url.size() == prefix.size() || url[prefix.size()] == '/' || prefix.back() == '/');
  };
  return under(mirror) || under(hub::mirror_base_url(mirror));
}

Result<hub::Transport> transport_of(const MirrorNetwork& net, const char* credentials_dir) {
  hub::Transport t;
  if (!net.proxy.empty()) {
    size_t sep = net.proxy.find("://");
    static const std::string_view schemes[] = {"http", "https", "socks4", "socks4a", "socks5", "socks5h"};
    if (sep != std::string::npos &&
        std::find(std::begin(schemes), std::end(schemes), std::string_view(net.proxy).substr(0, sep)) == std::end(schemes))
      return make_error(Errc::invalid_argument, "Proxy=" + hub::url_without_userinfo(net.proxy) +
                                                    ": the scheme is not http, https, socks4, socks4a, socks5 or socks5h");
    // The proxy URL reaches btfd-fetch's argv (ps shows it) and error texts.
    if (!hub::url_userinfo(net.proxy).empty())
      return make_error(Errc::invalid_argument,
                        "Proxy=" + hub::url_without_userinfo(net.proxy) +
                            ": credentials in the proxy URL (user:password@) are refused, as they would show in "
                            "process lists and logs: put \"user:password\" in a file named by ProxyAuthFile=");
    t.proxy = net.proxy;
  }
  if (!net.no_proxy.empty()) t.no_proxy = net.no_proxy;
  BTFD_TRY(t.proxy_auth_file, network_file("ProxyAuthFile", net.proxy_auth_file, credentials_dir));
  if (!t.proxy_auth_file.empty() && (!t.proxy || t.proxy->empty()))
    return make_error(Errc::invalid_argument, "ProxyAuthFile= is set without Proxy=");
  BTFD_TRY(t.ca_file, network_file("CAFile", net.ca_file, credentials_dir));
  BTFD_TRY(t.client_cert, network_file("ClientCertificate", net.client_cert, credentials_dir));
  BTFD_TRY(t.client_key, network_file("ClientKey", net.client_key, credentials_dir));
  if (!t.client_key.empty() && t.client_cert.empty())
    return make_error(Errc::invalid_argument, "ClientKey= is set without ClientCertificate=");
  if (!net.bearer_token_file.empty() && !net.basic_auth_file.empty())
    return make_error(Errc::invalid_argument, "BearerTokenFile= and BasicAuthFile= are both set: a mirror takes one");
  if (!net.bearer_token_file.empty()) {
    t.auth = "bearer";
    BTFD_TRY(t.auth_file, network_file("BearerTokenFile", net.bearer_token_file, credentials_dir));
  } else if (!net.basic_auth_file.empty()) {
    t.auth = "basic";
    BTFD_TRY(t.auth_file, network_file("BasicAuthFile", net.basic_auth_file, credentials_dir));
  }
  return t;
}

}  // namespace

namespace {
// One URL's Transport: [Hub]'s keys with the longest matching [Mirror] on top.
Result<hub::Transport> url_transport(const Config& cfg, const std::string& m, const char* credentials_dir) {
  MirrorNetwork net = cfg.network;
  const std::pair<std::string, MirrorNetwork>* best = nullptr;
  for (const auto& section : cfg.mirror_network)
    if (prefix_matches(section.first, m) && (!best || section.first.size() > best->first.size())) best = &section;
  if (best) {
    for (const auto& k : kNetworkKeys)
      if (!(best->second.*(k.field)).empty()) net.*(k.field) = best->second.*(k.field);
  }
  auto t = transport_of(net, credentials_dir);
  if (!t) return std::move(t).error().wrap("\"" + m + "\"" + (best ? " ([Mirror \"" + best->first + "\"])" : ""));
  return t;
}
}  // namespace

Result<std::vector<hub::Transport>> mirror_transports(const Config& cfg, const char* credentials_dir) {
  for (const auto& section : cfg.mirror_network) {
    const std::string& prefix = section.first;  // not a structured binding: clang 14 cannot capture those
    if (!hub::url_userinfo(prefix).empty())
      return make_error(Errc::invalid_argument, "[Mirror \"" + hub::url_without_userinfo(prefix) +
                                                    "\"]: credentials in the URL are refused: use BasicAuthFile=");
    auto matches = [&](const std::string& m) { return prefix_matches(prefix, m); };
    if (std::none_of(cfg.mirrors.begin(), cfg.mirrors.end(), matches) &&
        std::none_of(cfg.debuginfod_urls.begin(), cfg.debuginfod_urls.end(), matches))
      return make_error(Errc::invalid_argument,
                        "[Mirror \"" + prefix + "\"] matches none of the mirrors (Hub.Mirrors) or debuginfod servers (Debuginfod.URLs)");
  }
  std::vector<hub::Transport> out;
  for (const auto& m : cfg.mirrors) {
    auto t = url_transport(cfg, m, credentials_dir);
    if (!t) return std::move(t).error().wrap("mirror");
    out.push_back(std::move(*t));
  }
  return out;
}

Result<std::vector<hub::Transport>> debuginfod_transports(const Config& cfg, const char* credentials_dir) {
  std::vector<hub::Transport> out;
  for (const auto& u : cfg.debuginfod_urls) {
    if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0)
      return make_error(Errc::invalid_argument, "debuginfod server \"" + u + "\" is not an http:// or https:// URL (Debuginfod.URLs)");
    if (!hub::url_userinfo(u).empty())
      return make_error(Errc::invalid_argument, "debuginfod server \"" + hub::url_without_userinfo(u) +
                                                    "\": credentials in the URL are refused: use BasicAuthFile=");
    auto t = url_transport(cfg, u, credentials_dir);
    if (!t) return std::move(t).error().wrap("debuginfod server");
    out.push_back(std::move(*t));
  }
  return out;
}

Status finish_config(Config& cfg) {
  if (const char* hidden = std::getenv("BTFD_UNIT_HIDES"))
    for (const auto& m : cfg.mirrors) BTFD_TRY_VOID(check_mirror_visible(m, hidden));
  for (const auto& m : cfg.mirrors) BTFD_TRY_VOID(hub::validate_mirror(m));
  BTFD_TRY(cfg.transports, mirror_transports(cfg, std::getenv("CREDENTIALS_DIRECTORY")));
  BTFD_TRY(cfg.debuginfod_transports, debuginfod_transports(cfg, std::getenv("CREDENTIALS_DIRECTORY")));
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
      "  --idle-exit SEC        exit after SEC idle seconds (0 = never; default 300 under socket\n"
      "                         activation, never with --socket)\n"
      "  --host-root DIR        host filesystem prefix (for agents in containers)\n"
      "  --workers N            worker threads (default 4)\n"
      "  --allow-group GROUP    group allowed to Prefetch, Refresh and GarbageCollect besides root\n"
      "  --admin-socket PATH    also bind PATH (mode 0660, group GROUP) for privileged calls\n"
      "  --modules-dir DIR      modules directory to watch for new kernels (repeatable)\n"
      "  --boot-dir DIR         boot directory to watch for new kernels\n"
      "  --log-level LEVEL      error, warning, notice, info, debug\n"
      "  --dump-config          print the configuration in effect (files, drop-ins, flags) and exit\n"
      "  --version              print the version and exit\n");
}

namespace {

// What a command-line flag does.
enum class FlagDoes {
  set_key,      // sets its key as btfd.conf does
  add_to_list,  // adds one entry to its list key; its first use replaces the configured list
  config,       // --config: read before every other flag (early_flags)
  dump,         // --dump-config
  version,
  help,
};

struct Flag {
  const char* name;
  FlagDoes does;
  const char* key = nullptr;  // the key it sets, named by --dump-config's "# set by --flag"
  std::vector<std::string> Config::*list = nullptr;  // add_to_list's list (one entry, spaces and all)
  char short_name = 0;                               // -h for --help

  bool takes_value() const { return does == FlagDoes::set_key || does == FlagDoes::add_to_list || does == FlagDoes::config; }
};

const Flag kFlags[] = {
    {"config", FlagDoes::config},
    {"socket", FlagDoes::set_key, "Daemon.Socket"},
    {"cache-dir", FlagDoes::set_key, "Cache.Directory"},
    {"cache-budget", FlagDoes::set_key, "Cache.MaxSize"},
    {"mirror", FlagDoes::add_to_list, "Hub.Mirrors", &Config::mirrors},
    {"connect-timeout", FlagDoes::set_key, "Hub.ConnectTimeoutMSec"},
    {"timeout", FlagDoes::set_key, "Hub.TimeoutMSec"},
    {"idle-exit", FlagDoes::set_key, "Daemon.IdleExitSec"},
    {"host-root", FlagDoes::set_key, "Daemon.HostRoot"},
    {"workers", FlagDoes::set_key, "Daemon.Workers"},
    {"allow-group", FlagDoes::set_key, "Access.AllowGroup"},
    {"log-level", FlagDoes::set_key, "Daemon.LogLevel"},
    {"modules-dir", FlagDoes::add_to_list, "Upgrade.ModuleDirectories", &Config::module_dirs},
    {"boot-dir", FlagDoes::set_key, "Upgrade.BootDirectory"},
    {"admin-socket", FlagDoes::set_key, "Daemon.AdminSocket"},
    {"dump-config", FlagDoes::dump},
    {"version", FlagDoes::version},
    {"help", FlagDoes::help, nullptr, nullptr, 'h'},
};
// getopt_long's value for kFlags[i] is kFirstFlag + i, past any short option's.
constexpr int kFirstFlag = 256;

const struct option* long_options() {
  static const std::vector<struct option> opts = [] {
    std::vector<struct option> o;
    for (size_t i = 0; i < std::size(kFlags); ++i)
      o.push_back({kFlags[i].name, kFlags[i].takes_value() ? required_argument : no_argument, nullptr,
                   kFirstFlag + static_cast<int>(i)});
    o.push_back({nullptr, 0, nullptr, 0});
    return o;
  }();
  return opts.data();
}

std::string short_options() {
  std::string o;
  for (const Flag& f : kFlags)
    if (f.short_name) o += f.short_name, o += f.takes_value() ? ":" : "";
  return o;
}

// The flag getopt_long returned, or nullptr for an unknown one or a missing value
// (getopt_long has said which).
const Flag* flag_of(int c) {
  if (c >= kFirstFlag) return static_cast<size_t>(c - kFirstFlag) < std::size(kFlags) ? &kFlags[c - kFirstFlag] : nullptr;
  for (const Flag& f : kFlags)
    if (f.short_name && f.short_name == c) return &f;
  return nullptr;
}

// The first pass: --help and --version answer whatever the configuration
// holds (even a broken one); --config names the file read before the other
// flags, so that they override it whatever their order. False to exit now.
bool early_flags(int argc, char** argv, std::string* config_path, bool* explicit_config, int* exit_code) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") break;
    if (a == "--help" || a == "-h") {
      usage();
      *exit_code = 0;
      return false;
    }
    if (a == "--version") {
      std::printf("btfd %s\n", BTFD_VERSION);
      *exit_code = 0;
      return false;
    }
    if (a == "--config" && i + 1 < argc) *config_path = argv[++i], *explicit_config = true;
    else if (a.rfind("--config=", 0) == 0) *config_path = a.substr(9), *explicit_config = true;
  }
  return true;
}

// A name, or a number (a group that exists only inside a container).
Status resolve_allow_group(Config& cfg) {
  if (cfg.allow_group.empty()) return {};
  if (struct group* g = ::getgrnam(cfg.allow_group.c_str())) {
    cfg.allow_gid = g->gr_gid;
  } else if (auto n = parse_uint(cfg.allow_group); n && *n < static_cast<uint64_t>(static_cast<gid_t>(-1))) {
    cfg.allow_gid = static_cast<gid_t>(*n);
  } else {
    return make_error(Errc::invalid_argument, "unknown group \"" + cfg.allow_group + "\"");
  }
  return {};
}

}  // namespace

Result<bool> apply_flags(Config& cfg, int argc, char** argv, int* exit_code) {
  std::string config_path = BTFD_DEFAULT_CONFIG;
  bool explicit_config = false, dump = false;
  if (!early_flags(argc, argv, &config_path, &explicit_config, exit_code)) return false;
  BTFD_TRY_VOID(load_config_files(cfg, config_path, explicit_config));
  std::set<const Flag*> listed;  // add_to_list flags used so far
  const std::string shorts = short_options();
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, shorts.c_str(), long_options(), nullptr)) != -1) {
    const Flag* f = flag_of(c);
    if (!f) {
      *exit_code = 2;
      return false;
    }
    const std::string v = optarg ? optarg : "";
    switch (f->does) {
      case FlagDoes::config: continue;
      case FlagDoes::dump: dump = true; continue;
      case FlagDoes::version:
        std::printf("btfd %s\n", BTFD_VERSION);
        *exit_code = 0;
        return false;
      case FlagDoes::help:
        usage();
        *exit_code = 0;
        return false;
      case FlagDoes::set_key:
        if (auto st = keys().at(f->key).set(cfg, v); !st) return std::move(st).error().wrap("--" + std::string(f->name));
        break;
      case FlagDoes::add_to_list:
        if (listed.insert(f).second) (cfg.*(f->list)).clear();
        (cfg.*(f->list)).push_back(v);
        break;
    }
    cfg.origins[f->key] = "--" + std::string(f->name);
  }
  if (optind < argc) return make_error(Errc::invalid_argument, "unexpected argument \"" + std::string(argv[optind]) + "\"");
  BTFD_TRY_VOID(resolve_allow_group(cfg));
  BTFD_TRY_VOID(finish_config(cfg));
  if (dump) {
    std::fputs(dump_config(cfg).c_str(), stdout);
    *exit_code = 0;
    return false;
  }
  return true;
}

}  // namespace btfd::server
