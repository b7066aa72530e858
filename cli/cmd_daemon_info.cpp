// SPDX-License-Identifier: GPL-2.0-or-later
// The read-mostly commands: list, status, stats, gc.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>

#include "btfd-config.h"
#include "cli/daemon_call.hpp"
#include "cli/transparent_host.hpp"
#include "proto/interface.hpp"

namespace btfctl {

static std::string when(int64_t t) {
  if (t <= 0) return "-";
  char buf[32];
  std::time_t tt = static_cast<std::time_t>(t);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", std::localtime(&tt));
  return buf;
}

static void print_stats_text(const nlohmann::json& stats);

int cmd_list(const Globals& g, std::vector<std::string>& args) {
  if (!args.empty()) return usage_error(g, "unexpected argument \"" + args[0] + "\"");
  auto r = call_daemon(g, btfd::proto::method::kListKernels, nlohmann::json::object());
  if (!r) return report_error(g, r.error());
  const auto& p = r->json["parameters"];
  if (g.quiet) return kExitOk;
  if (g.json) {
    print_json(g, p);
    return kExitOk;
  }
  // Objects by the file name a client gave (btfd keeps the last one), else
  // by digest: minimized entries list their objects that way too.
  std::map<std::string, std::string> names;
  for (const auto& o : p["objects"]) {
    std::string name = o.value("name", "");
    if (!name.empty()) names[o.value("sha256", "")] = name;
  }
  auto object_name = [&](const std::string& digest) {
    auto it = names.find(digest);
    return it != names.end() ? it->second : digest.substr(0, 16);
  };
  std::printf("%-50s %-7s %10s %-16s %s\n", "KERNEL", "SOURCE", "SIZE", "LAST USED", "PINNED");
  for (const auto& k : p["kernels"])
    std::printf("%-50s %-7s %10s %-16s %s\n", kernel_string(k["kernel"]).c_str(), k.value("source", "").c_str(),
                human_size(k.value("size", 0ull)).c_str(), when(k.value("last_used", int64_t{0})).c_str(),
                k.value("pinned", false) ? "yes" : "no");
  // A minimized entry names its kernel by the full BTF's digest: shown as
  // the kernel it belongs to (an imported bundle's entry has no full BTF).
  std::map<std::string, std::string> kernel_of;
  for (const auto& k : p["kernels"]) kernel_of[k.value("sha256", "")] = kernel_string(k["kernel"]);
  std::printf("\n%s, %s\n", count_of(p["minimized"].size(), "minimized entry", "minimized entries").c_str(),
              count_of(p["objects"].size(), "remembered object", "remembered objects").c_str());
  if (!p["minimized"].empty()) std::printf("  %-16s %-50s %10s  %s\n", "MINIMIZED", "KERNEL", "SIZE", "FOR");
  for (const auto& m : p["minimized"]) {
    std::string objs;
    for (const auto& d : m.value("objects", nlohmann::json::array()))
      if (d.is_string()) objs += (objs.empty() ? "" : ", ") + object_name(d.get<std::string>());
    auto k = kernel_of.find(m.value("kernel_sha256", ""));
    std::printf("  %-16s %-50s %10s  %s\n", m.value("sha256", "").substr(0, 16).c_str(),
                k != kernel_of.end() ? k->second.c_str() : "(from a bundle)", human_size(m.value("size", 0ull)).c_str(),
                objs.c_str());
  }
  for (const auto& o : p["objects"]) {
    std::string digest = o.value("sha256", ""), name = o.value("name", "");
    std::printf("  object %s  %s  %s  last requested %s\n", name.empty() ? "-" : name.c_str(),
                digest.substr(0, 16).c_str(), human_size(o.value("size", 0ull)).c_str(),
                when(o.value("last_requested", int64_t{0})).c_str());
  }
  return kExitOk;
}

// btfctl's version, and btfd's when it answers (a version skew between the
// two is what a user debugging them wants to see first).
int cmd_version(const Globals& g, std::vector<std::string>& args) {
  if (!args.empty()) return usage_error(g, "unexpected argument \"" + args[0] + "\"");
  nlohmann::json out = {{"btfctl", BTFD_VERSION}, {"socket", socket_path(g)}};
  auto r = call_daemon(g, btfd::proto::method::kGetInfo, nlohmann::json::object());
  if (r && r->json["parameters"].contains("version")) out["btfd"] = r->json["parameters"]["version"];
  else out["btfd"] = nullptr;
  if (!r) out["btfd_error"] = r.error().message;
  if (g.quiet) return kExitOk;
  if (g.json) {
    print_json(g, out);
    return kExitOk;
  }
  std::printf("btfctl %s\n", BTFD_VERSION);
  if (out["btfd"].is_string()) std::printf("btfd %s (%s)\n", out["btfd"].get<std::string>().c_str(), socket_path(g).c_str());
  else std::printf("btfd: not reachable (%s)\n", r ? "no version in its answer" : r.error().message.c_str());
  return kExitOk;
}

int cmd_status(const Globals& g, std::vector<std::string>& args) {
  if (!args.empty()) return usage_error(g, "unexpected argument \"" + args[0] + "\"");
  auto r = call_daemon(g, btfd::proto::method::kStatus, nlohmann::json::object());
  if (!r) return report_error(g, r.error());
  const auto& s = r->json["parameters"]["status"];
  if (g.quiet) return kExitOk;
  // Transparent mode's files, read from this host's file system (btfd cannot see
  // whether root installed them through its sandbox, and need not).
  const nlohmann::json transparent = transparent_files();
  if (g.json) {
    nlohmann::json out = s;
    out["transparent"] = transparent;
    print_json(g, out);
    return kExitOk;
  }
  std::printf("btfd %s, up %llds\n", s.value("version", "?").c_str(), static_cast<long long>(s.value("uptime_sec", 0LL)));
  std::printf("host:        %s (%s)\n", kernel_string(s["host"]).c_str(),
              s.value("native_btf", false) ? "native BTF available" : "no native BTF: served from the hub");
  const auto& c = s["cache"];
  std::printf("cache:       %s of %s in %s (%s, %s minimized, %s)\n", human_size(c.value("used", 0ull)).c_str(),
              human_size(c.value("budget", 0ull)).c_str(), c.value("directory", "").c_str(),
              count_of(c.value("kernels", 0ull), "kernel", "kernels").c_str(),
              std::to_string(c.value("minimized", 0ull)).c_str(),
              count_of(c.value("objects", 0ull), "object", "objects").c_str());
  // What "used" is made of: the budget counts the index's rows with the blobs.
  std::printf("             %s of files, %s of index rows; %s pinned\n", human_size(c.value("blob_bytes", 0ull)).c_str(),
              human_size(c.value("row_bytes", 0ull)).c_str(), human_size(c.value("pinned_bytes", 0ull)).c_str());
  for (const auto& m : s["mirrors"]) {
    // A problem (a missing directory) says why; otherwise unhealthy means the circuit is open.
    std::string health = m.value("healthy", true)     ? "healthy"
                         : m.contains("problem")      ? "unhealthy: " + m.value("problem", "")
                         : m.contains("last_failure") ? "failing: " + m.value("last_failure", "")
                                                      : "failing, skipped for now";
    std::printf("mirror:      %s  %s  (%s, %s)\n", m.value("base", "").c_str(), health.c_str(),
                count_of(m.value("requests", 0ull), "request", "requests").c_str(),
                count_of(m.value("errors", 0ull), "error", "errors").c_str());
  }
  const auto& pf = s["prefetch"];
  std::printf("prefetch:    %s, %s, %s seen\n", count_of(pf.value("runs", 0ull), "run", "runs").c_str(),
              count_of(pf.value("failures", 0ull), "failure", "failures").c_str(),
              count_of(pf.value("kernels_seen", 0ull), "new kernel", "new kernels").c_str());
  // BTF generated from debug info: what from what (btfd.conf(5) [Debuginfo]).
  if (s.contains("debuginfo") && s["debuginfo"].is_object()) {
    const auto& d = s["debuginfo"];
    std::printf("debuginfo:   %s, %s generated, %s%s\n", d.value("enabled", false) ? "on" : "off",
                std::to_string(d.value("generated", 0ull)).c_str(),
                count_of(d.value("failures", 0ull), "failure", "failures").c_str(),
                d.value("debuginfod", nlohmann::json::array()).empty() ? "" : ", debuginfod on");
    if (d.contains("running")) std::printf("             running: %s\n", d.value("running", "").c_str());
    if (d.contains("last")) std::printf("             last: %s\n", d.value("last", "").c_str());
    if (d.contains("last_failure")) std::printf("             last failure: %s\n", d.value("last_failure", "").c_str());
  }
  for (const auto& t : transparent)
    std::printf("transparent: %s at %s\n", t.value("release", "").c_str(), t.value("path", "").c_str());
  return kExitOk;
}

int cmd_stats(const Globals& g, std::vector<std::string>& args) {
  bool prom = take_flag(args, "--prometheus");
  if (!args.empty()) return usage_error(g, "unexpected argument \"" + args[0] + "\"");
  auto r = call_daemon(g, btfd::proto::method::kStats, {{"prometheus", prom}});
  if (!r) return report_error(g, r.error());
  const auto& p = r->json["parameters"];
  if (g.quiet) return kExitOk;
  if (prom) {
    std::fputs(p.value("text", "").c_str(), stdout);
    return kExitOk;
  }
  if (g.json) {
    print_json(g, p["stats"]);
    return kExitOk;
  }
  print_stats_text(p["stats"]);
  return kExitOk;
}

// `stats` as text: btfd's counters, one "name: value" line each, nested
// objects indented under their name (the counters' names are btfd's; JSON
// with --json). A list of numbers (histogram buckets) is one line of
// numbers; a list of objects (mirrors) is one block each, named by its
// "base" (or its place in the list). No JSON reaches the text.
static void print_stats_value(const std::string& name, const nlohmann::json& v, int depth) {
  std::string indent(static_cast<size_t>(depth) * 2, ' ');
  auto scalar = [](const nlohmann::json& x) {
    return x.is_string() ? x.get<std::string>()
           : x.is_null() ? std::string("-")
                         : x.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  if (v.is_object()) {
    if (!name.empty()) std::printf("%s%s:\n", indent.c_str(), name.c_str());
    for (const auto& [k, sub] : v.items()) print_stats_value(k, sub, name.empty() ? depth : depth + 1);
    return;
  }
  if (v.is_array()) {
    bool flat = std::all_of(v.begin(), v.end(), [](const nlohmann::json& x) { return !x.is_structured(); });
    if (flat) {
      std::string line;
      for (const auto& x : v) line += (line.empty() ? "" : " ") + scalar(x);
      std::printf("%s%s: %s\n", indent.c_str(), name.c_str(), v.empty() ? "(none)" : line.c_str());
      return;
    }
    std::printf("%s%s:\n", indent.c_str(), name.c_str());
    for (size_t i = 0; i < v.size(); ++i) {
      const auto& x = v[i];
      // A small record (a histogram bucket: le, count) is one line.
      if (x.is_object() && x.size() <= 2 &&
          std::all_of(x.begin(), x.end(), [](const nlohmann::json& f) { return !f.is_structured(); })) {
        std::string line;
        for (const auto& [k, f] : x.items()) line += (line.empty() ? "" : " ") + k + "=" + scalar(f);
        std::printf("%s  %s\n", indent.c_str(), line.c_str());
        continue;
      }
      std::string label = x.is_object() && x.contains("base") && x["base"].is_string() ? x["base"].get<std::string>()
                                                                                       : "#" + std::to_string(i);
      print_stats_value(label, x, depth + 1);
    }
    return;
  }
  std::printf("%s%s: %s\n", indent.c_str(), name.c_str(), scalar(v).c_str());
}

static void print_stats_text(const nlohmann::json& stats) { print_stats_value("", stats, 0); }

int cmd_gc(const Globals& g, std::vector<std::string>& args) {
  if (!args.empty()) return usage_error(g, "unexpected argument \"" + args[0] + "\"");
  auto r = call_daemon(g, btfd::proto::method::kGarbageCollect, nlohmann::json::object());
  if (!r) return report_error(g, r.error());
  const auto& p = r->json["parameters"];
  if (g.quiet) return kExitOk;
  if (g.json) {
    print_json(g, p);
  } else {
    std::printf("removed %s and %s, freed %s\n", count_of(p.value("removed_entries", 0ull), "entry", "entries").c_str(),
                count_of(p.value("removed_blobs", 0ull), "blob", "blobs").c_str(),
                human_size(p.value("freed_bytes", 0ull)).c_str());
    // Only pinned kernels (fetched for an installed kernel) stay over the budget.
    if (uint64_t over = p.value("over_budget", 0ull))
      std::printf("still %s over the budget: pinned kernels, kept until they are booted past or removed\n",
                  human_size(over).c_str());
  }
  return kExitOk;
}

int cmd_verify(const Globals& g, std::vector<std::string>& args) {
  if (!args.empty()) return usage_error(g, "unexpected argument \"" + args[0] + "\"");
  auto r = call_daemon(g, btfd::proto::method::kVerify, nlohmann::json::object());
  if (!r) return report_error(g, r.error());
  const auto& p = r->json["parameters"];
  if (g.quiet) return kExitOk;
  if (g.json) print_json(g, p);
  else
    std::printf("checked %s (%s), %llu damaged and dropped\n", count_of(p.value("checked", 0ull), "blob", "blobs").c_str(),
                human_size(p.value("bytes", 0ull)).c_str(), static_cast<unsigned long long>(p.value("corrupt", 0ull)));
  // Damage found is reported, not failed: btfd dropped it and refills.
  return kExitOk;
}

}  // namespace btfctl
