// SPDX-License-Identifier: GPL-2.0-or-later
// `btfctl get`: BTF for this host or a given kernel, optionally minimized for
// objects (opened here and passed to btfd as descriptors, with their base
// names so `list` can show them).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <functional>

#include "btfd-config.h"
#include "cli/daemon_call.hpp"
#include "kernel/identity.hpp"
#include "proto/errors.hpp"
#include "config/config.hpp"
#include "debuginfo/debug_files.hpp"
#include "util/fd.hpp"
#include "proto/interface.hpp"

namespace btfctl {

namespace {
// The most an object may be to be copied into a memfd (btfd takes 64 MiB by default).
constexpr size_t kMaxObjectCopy = size_t{1} << 30;

// btfd names the object an error is about by its index ("object": N, and a
// message beginning "object #N"): say it as the user did, --object PATH.
btfd::Error object_error(const nlohmann::json& reply, const std::vector<std::string>& paths, nlohmann::json* extra) {
  btfd::Error e = reply_error(reply);
  const auto& p = reply["parameters"];
  if (!p.is_object() || !p.contains("object") || !p["object"].is_number_unsigned()) return e;
  auto index = p["object"].get<uint64_t>();
  if (index >= paths.size()) return e;
  std::string label = "object #" + std::to_string(index), text = p.value("message", "");
  if (text.rfind(label, 0) == 0) text = text.substr(label.size());
  else text = ": " + text;
  std::string name = reply["error"].get<std::string>();
  e.message = name.substr(name.rfind('.') + 1) + ": --object " + paths[index] + text;
  (*extra)["object"] = paths[index];
  return e;
}

std::string base_name(const std::string& path) {
  auto slash = path.find_last_of('/');
  std::string b = slash == std::string::npos ? path : path.substr(slash + 1);
  return b.size() > 255 ? b.substr(0, 255) : b;  // btfd takes at most 255 bytes
}

}  // namespace

// "Not in the hub" for a distro btfd's table does not know (a rebuild, a
// vendor's own): the hub files kernels under the distros it serves, so the
// way out is usually an alias. distro "" is this host's.
static std::string unknown_distro_hint(std::string distro) {
  if (distro.empty()) {
    auto host = btfd::detect_host("");
    if (!host) return {};
    distro = host->identity.distro_id;
  }
  btfd::server::Config cfg = btfd::server::default_config();
  if (!btfd::server::load_config_files(cfg, BTFD_DEFAULT_CONFIG, false) || !btfd::server::load_distro_table(cfg)) return {};
  for (const auto& r : cfg.distros.rules())
    if (r.id == distro) return {};
  for (const auto& a : cfg.distros.aliases())
    if (a.from == distro) return {};
  return " (btfd's distro table does not know \"" + distro +
         "\": if it rebuilds a distro btfhub-archive serves, say which in btfd.conf, e.g. [Distro] Alias=" + distro +
         " rhel; see btfd.conf(5))";
}

int cmd_get(const Globals& g, std::vector<std::string>& args) {
  nlohmann::json kernel;
  int rc = 0;
  if (!kernel_options(g, args, &kernel, &rc)) return rc;
  std::string out, err, obj;
  if (!take_option(args, "-o", &out, &err) && !take_option(args, "--output", &out, &err) && !err.empty())
    return usage_error(g, err);
  if (out == "-" && g.json) return usage_error(g, "-o - and --json both write to standard output");
  std::vector<btfd::UniqueFd> objects;
  std::vector<std::string> paths;
  while (take_option(args, "--object", &obj, &err)) {
    auto fd = btfd::open_file(obj, O_RDONLY);
    if (!fd) {
      btfd::Error e = fd.error();
      e.code = btfd::Errc::io;  // a missing local file is not "no BTF for this kernel"
      e.message = "--object " + obj + ": " + (e.sys_errno ? std::strerror(e.sys_errno) : e.message);
      return report_error(g, e, {{"object", obj}});
    }
    // A regular file goes as a sealed memfd, which btfd reads at once (a file
    // it must read itself could stall, and takes a slower, bounded path).
    struct stat st {};
    if (::fstat(fd->get(), &st) == 0 && S_ISREG(st.st_mode)) {
      auto mem = btfd::sealed_copy(std::move(fd).value(), kMaxObjectCopy, "btfctl-object");
      if (!mem) return report_error(g, std::move(mem).error().wrap("--object " + obj), {{"object", obj}});
      fd = std::move(mem);
    }
    objects.push_back(std::move(fd).value());
    paths.push_back(obj);
  }
  if (!err.empty()) return usage_error(g, err);
  // Descriptors travel with one message, at most 16 (btfd may take fewer:
  // MaxObjectsPerRequest=, and says so).
  if (paths.size() > btfd::proto::kMaxFdsPerMessage)
    return report_error(g, btfd::make_error(btfd::Errc::too_large,
                                            std::to_string(paths.size()) + " objects; btfd takes at most " +
                                                std::to_string(btfd::proto::kMaxFdsPerMessage) +
                                                " per request (the descriptors of one message)"));
  // Modules: each one's split BTF (over the kernel's full BTF) is written to
  // DIR/NAME.btf; btfd checks the names and their number.
  std::vector<std::string> modules;
  std::string module, module_dir;
  while (take_option(args, "--module", &module, &err)) modules.push_back(module);
  if (!err.empty()) return usage_error(g, err);
  if (!take_option(args, "--module-dir", &module_dir, &err) && !err.empty()) return usage_error(g, err);
  if (!modules.empty() && module_dir.empty())
    return usage_error(g, "--module needs --module-dir DIR (each module's split BTF is written there as NAME.btf)");
  if (modules.empty() && !module_dir.empty()) return usage_error(g, "--module-dir without --module");
  if (!modules.empty() && !paths.empty())
    return usage_error(g, "--module with --object: a module's split BTF is over the full kernel BTF, not a minimized one");
  bool refresh = take_flag(args, "--refresh");
  std::string compat;
  if (!take_option(args, "--compat", &compat, &err) && !err.empty()) return usage_error(g, err);
  if (!args.empty()) return usage_error(g, "unexpected argument \"" + args[0] + "\"");
  nlohmann::json params = nlohmann::json::object();
  // GetBtf's "refresh": any user may ask the hub again (within their budget).
  if (refresh) params["refresh"] = true;
  if (!compat.empty()) params["compat"] = compat;  // btfd checks the level and names the known ones
  if (!kernel.is_null()) params["kernel"] = kernel;
  if (!modules.empty()) params["modules"] = modules;
  std::vector<int> fds;
  if (!objects.empty()) {
    params["objects"] = nlohmann::json::array();
    params["names"] = nlohmann::json::array();
    for (size_t i = 0; i < objects.size(); ++i) {
      params["objects"].push_back(i);
      params["names"].push_back(base_name(paths[i]));
      fds.push_back(objects[i].get());
    }
  }
  // A download can take seconds: on a terminal, show it as prefetch does.
  ProgressDisplay progress(g, false);
  auto reply = call_daemon_raw(g, btfd::proto::method::kGetBtf, params, fds, progress.wanted(), std::ref(progress));
  progress.finish(reply && !reply->json.contains("error"));
  if (!reply) return report_error(g, reply.error());
  if (reply->json.contains("error")) {
    nlohmann::json extra = {{"name", reply->json["error"]}};
    btfd::Error e = object_error(reply->json, paths, &extra);
    if (reply->json["error"] == btfd::proto::errors::kKernelNotInHub)
      e.message += unknown_distro_hint(kernel.is_object() && kernel.contains("distro") ? kernel["distro"].get<std::string>()
                                                                                       : std::string());
    return report_error(g, e, extra);
  }
  const auto& p = reply->json["parameters"];
  if (reply->fds.empty()) return report_error(g, btfd::make_error(btfd::Errc::protocol, "btfd sent no BTF descriptor"));
  if (!out.empty()) {
    auto bytes = btfd::pread_all(reply->fds[0].get(), 1ull << 31);
    if (!bytes) return report_error(g, bytes.error());
    if (auto st = write_output(out, *bytes); !st) return report_error(g, st.error());
  }
  // Each module's split BTF, from the descriptor its entry names.
  nlohmann::json module_entries = p.contains("modules") ? p["modules"] : nlohmann::json::array();
  if (module_entries.size() != modules.size())
    return report_error(g, btfd::make_error(btfd::Errc::protocol, "btfd answered for " + std::to_string(module_entries.size()) +
                                                                     " modules, not the " + std::to_string(modules.size()) + " asked for"));
  for (auto& m : module_entries) {
    uint64_t index = m.value("fd", uint64_t{0});
    std::string name = m.value("name", "");
    if (index == 0 || index >= reply->fds.size() || !btfd::debuginfo::is_module_name(name))
      return report_error(g, btfd::make_error(btfd::Errc::protocol, "btfd's entry for a module is malformed: " + m.dump()));
    auto bytes = btfd::pread_all(reply->fds[index].get(), 1ull << 31);
    if (!bytes) return report_error(g, bytes.error());
    std::string file = module_dir + "/" + name + ".btf";
    if (auto st = write_output(file, *bytes); !st) return report_error(g, st.error());
    m.erase("fd");
    m["output"] = file;
  }
  // The cache file is btfd's: a path the caller cannot open is no answer
  // (-o FILE is the way to get the bytes then).
  std::string path = p.value("path", "");
  bool readable = !path.empty() && ::access(path.c_str(), R_OK) == 0;
  if (g.quiet) return kExitOk;
  if (g.json) {
    nlohmann::json j = p;
    j.erase("fd");
    if (!readable) j["path"] = nullptr;
    if (!out.empty()) j["output"] = out;
    if (!modules.empty()) j["modules"] = module_entries;
    print_json(g, j);
    return kExitOk;
  }
  // With -o -, standard output is the BTF: the summary goes to stderr.
  FILE* to = out == "-" ? stderr : stdout;
  std::string btf = out == "-"       ? "standard output"
                    : !out.empty()   ? out
                    : readable       ? path
                                     : "in btfd's cache, not readable by you: use -o FILE";
  std::string source = p.value("cached", false) ? "cache (" + p.value("source", "?") + ")" : p.value("source", "?");
  std::fprintf(to, "kernel:    %s\n", kernel_string(p["kernel"]).c_str());
  std::fprintf(to, "btf:       %s\n", btf.c_str());
  std::fprintf(to, "size:      %s (%llu bytes)\n", human_size(p.value("size", 0ull)).c_str(),
               static_cast<unsigned long long>(p.value("size", 0ull)));
  std::fprintf(to, "source:    %s\n", source.c_str());
  std::fprintf(to, "minimized: %s\n", p.value("minimized", false) ? "yes, for the given objects" : "no (full kernel BTF)");
  std::fprintf(to, "exact:     %s\n", p.value("exact", false) ? "yes" : "no");
  if (p.contains("compat")) std::fprintf(to, "compat:    %s\n", p.value("compat", "").c_str());
  std::fprintf(to, "sha256:    %s\n", p.value("sha256", "").c_str());
  for (const auto& m : module_entries)
    std::fprintf(to, "module:    %s: %s (%s, %s%s)\n", m.value("name", "").c_str(), m.value("output", "").c_str(),
                 human_size(m.value("size", 0ull)).c_str(), m.value("cached", false) ? "cached, " : "",
                 m.value("origin", "").c_str());
  return kExitOk;
}

}  // namespace btfctl
