// SPDX-License-Identifier: GPL-2.0-or-later
// `btfctl transparent install|remove|status`: transparent mode, done once (as
// root: the kernel hooks and btfd-transparent.service run it). The BTF comes
// from btfd through its socket; the file is written here, never by btfd.
#include <unistd.h>

#include <cstdio>

#include "btfd-config.h"
#include "cli/daemon_call.hpp"
#include "cli/transparent_host.hpp"
#include "util/sha256.hpp"
#include "proto/interface.hpp"

namespace btfctl {
namespace {

namespace tp = btfd::transparent;

// Kernel BTF is at most Hub.MaxKernelSize unpacked (128 MiB by default).
constexpr size_t kMaxBtf = 512u << 20;

struct Outcome {
  std::string release, outcome, path, message;
  btfd::Errc code = btfd::Errc::internal;  // for "error" and "foreign"
  uint64_t size = 0;
  nlohmann::json to_json() const {
    nlohmann::json j = {{"release", release}, {"outcome", outcome}, {"path", path}};
    if (!message.empty()) j["message"] = message;
    if (size) j["size"] = size;
    return j;
  }
};

Outcome failed(const std::string& release, const std::string& path, const btfd::Error& e) {
  // A foreign file is the one refusal the user must act on; say it apart.
  std::string outcome = e.code == btfd::Errc::permission && e.message.find("is not btfd's file") != std::string::npos
                            ? "foreign"
                            : e.code == btfd::Errc::not_in_hub ? "not-in-hub" : "error";
  return Outcome{release, outcome, path, e.message, e.code, 0};
}

Outcome install_one(const Globals& g, const btfd::server::Config& cfg, const std::string& release) {
  auto k = inspect_kernel(cfg, release);
  if (!k) return failed(release, "", k.error());
  const std::string& path = k->file.path;
  // Whatever the outcome, a killed run's temp file goes (install_file removes
  // them too; the outcomes below that write nothing need it here).
  if (auto temps = tp::remove_leftover_temps(path); !temps) return failed(release, path, temps.error());
  if (k->native_btf) return Outcome{release, "native", path, "the kernel has BTF of its own", {}, 0};
  // A foreign file: install_file refuses before writing, with the message that says why.
  if (k->file.state == tp::FileState::foreign)
    return failed(release, path, tp::install_file(path, {}, release).error());
  auto reply = call_daemon(g, btfd::proto::method::kGetBtf, {{"kernel", {{"release", release}}}});
  if (!reply) return failed(release, path, reply.error());
  const auto& p = reply->json["parameters"];
  if (reply->fds.empty()) return failed(release, path, btfd::make_error(btfd::Errc::protocol, "btfd sent no BTF descriptor"));
  if (p.value("source", "") == "native") return Outcome{release, "native", path, "btfd serves the kernel's own BTF", {}, 0};
  auto bytes = btfd::pread_all(reply->fds[0].get(), kMaxBtf);
  if (!bytes) return failed(release, path, bytes.error());
  // The daily oneshot finds most files current: leave them as they are.
  if (k->file.state == tp::FileState::ours && k->file.release == release &&
      k->file.btf_sha256 == btfd::sha256_hex(*bytes))
    return Outcome{release, "unchanged", path, {}, {}, k->file.size};
  auto done = tp::install_file(path, *bytes, release);
  if (!done) return failed(release, path, done.error());
  return Outcome{release, "installed", path, {}, {}, done->size};
}

Outcome remove_one(const btfd::server::Config& cfg, const std::string& release) {
  if (auto st = btfd::validate_identity({"x", "x", "x", release}); !st) return failed(release, "", st.error());
  std::string path = tp::expand_path_template(cfg.transparent_path, release, cfg.host_root);
  auto removed = tp::remove_file(path);
  if (!removed) return failed(release, path, removed.error());
  if (!removed->file && removed->temps == 0) return Outcome{release, "absent", path, {}, {}, 0};
  // The kernel package removed its files before this hook: if btfd's file (or
  // a killed install's temp file) was all that kept the kernel's own
  // directory, it goes too (otherwise the kernel would still look installed).
  // rmdir only removes an empty one.
  auto slash = path.rfind('/');
  std::string dir = path.substr(0, slash);
  if (dir.size() > release.size() && dir.ends_with("/" + release)) ::rmdir(dir.c_str());
  return Outcome{release, removed->file ? "removed" : "absent", path, {}, {}, 0};
}

// Prints the outcomes; one kernel's failure is reported as an error (JSON error
// object, its exit code), several as a table (exit 1 if any failed).
int report(const Globals& g, const std::vector<Outcome>& outs, bool single) {
  if (single && !outs.empty() && (outs[0].outcome == "error" || outs[0].outcome == "foreign" ||
                                  outs[0].outcome == "not-in-hub"))
    return report_error(g, btfd::make_error(outs[0].code, outs[0].release + ": " + outs[0].message));
  bool any_failed = false;
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& o : outs) {
    any_failed |= o.outcome == "error" || o.outcome == "foreign";
    arr.push_back(o.to_json());
  }
  if (g.json) {
    print_json(g, {{"kernels", arr}});
  } else if (!g.quiet) {
    for (const auto& o : outs) {
      std::string detail = o.outcome == "installed" || o.outcome == "unchanged" ? o.path + " (" + human_size(o.size) + ")"
                           : o.outcome == "removed" || o.outcome == "absent" ? o.path
                                                                             : o.message;
      std::printf("%-40s %-10s %s\n", o.release.c_str(), o.outcome.c_str(), detail.c_str());
    }
  }
  for (const auto& o : outs)
    if (o.outcome == "error" || o.outcome == "foreign") std::fprintf(stderr, "btfctl: %s: %s\n", o.release.c_str(), o.message.c_str());
  return any_failed ? kExitFailure : kExitOk;
}

int status(const Globals& g, const btfd::server::Config& cfg, const std::string& release) {
  std::vector<TransparentKernel> kernels;
  if (!release.empty()) {
    auto k = inspect_kernel(cfg, release);
    if (!k) return report_error(g, k.error());
    kernels.push_back(std::move(k).value());
  } else {
    auto all = inspect_kernels(cfg);
    if (!all) return report_error(g, all.error());
    kernels = std::move(all).value();
  }
  if (g.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& k : kernels) arr.push_back(to_json(k));
    print_json(g, {{"enabled", cfg.transparent_enable}, {"path_template", cfg.transparent_path}, {"kernels", arr}});
    return kExitOk;
  }
  std::printf("transparent mode: %s ([Transparent] Enable=%s), files at %s\n", cfg.transparent_enable ? "on" : "off",
              cfg.transparent_enable ? "yes" : "no", cfg.transparent_path.c_str());
  std::printf("%-40s %-10s %-7s %s\n", "KERNEL", "FILE", "NATIVE", "PATH");
  for (const auto& k : kernels) {
    std::string path = k.file.path;
    if (k.file.state == tp::FileState::foreign) path += " (not btfd's: " + k.file.not_ours + ")";
    std::printf("%-40s %-10s %-7s %s\n", (k.release + (k.running ? " *" : "")).c_str(),
                tp::file_state_name(k.file.state), k.native_btf ? "yes" : "no", path.c_str());
  }
  return kExitOk;
}

}  // namespace

int cmd_transparent(const Globals& g, std::vector<std::string>& args) {
  if (args.empty()) return usage_error(g, "transparent needs an action: install, remove or status");
  std::string action = args[0];
  args.erase(args.begin());
  std::string config = BTFD_DEFAULT_CONFIG, release, err;
  bool explicit_config = take_option(args, "--config", &config, &err);
  if (!explicit_config && !err.empty()) return usage_error(g, err);
  if (!take_option(args, "--release", &release, &err) && !err.empty()) return usage_error(g, err);
  bool all = take_flag(args, "--all");
  bool if_enabled = take_flag(args, "--if-enabled");
  if (!args.empty()) return usage_error(g, "unexpected argument \"" + args[0] + "\"");
  if (action != "install" && action != "remove" && action != "status")
    return usage_error(g, "unknown action \"" + action + "\" (install, remove or status)");
  if (all && !release.empty()) return usage_error(g, "--all and --release exclude each other");
  if ((all || if_enabled) && action != "install") return usage_error(g, "--all and --if-enabled are for install");
  auto cfg = load_btfd_conf(config, explicit_config);
  if (!cfg) return report_error(g, cfg.error());
  if (action == "status") return status(g, *cfg, release);

  if (action == "install" && if_enabled && !cfg->transparent_enable) {
    if (g.json) print_json(g, {{"enabled", false}, {"kernels", nlohmann::json::array()}});
    else if (!g.quiet) std::printf("transparent mode is off (btfd.conf [Transparent] Enable=no): nothing installed\n");
    return kExitOk;
  }
  std::vector<std::string> releases;
  if (all) {
    auto kernels = inspect_kernels(*cfg);
    if (!kernels) return report_error(g, kernels.error());
    for (const auto& k : *kernels) releases.push_back(k.release);
  } else {
    releases.push_back(release.empty() ? running_release() : release);
  }
  std::vector<Outcome> outs;
  for (const auto& r : releases) outs.push_back(action == "install" ? install_one(g, *cfg, r) : remove_one(*cfg, r));
  return report(g, outs, !all);
}

}  // namespace btfctl
