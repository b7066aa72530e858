// SPDX-License-Identifier: GPL-2.0-or-later
// `btfctl prefetch`: fetch a kernel's BTF ahead of time (e.g. from a kernel
// install hook) with a progress bar on a terminal, plain lines otherwise.
#include <cstdio>

#include "cli/daemon_call.hpp"
#include "proto/interface.hpp"

namespace btfctl {

int cmd_prefetch(const Globals& g, std::vector<std::string>& args) {
  nlohmann::json kernel;
  int rc = 0;
  if (!kernel_options(g, args, &kernel, &rc)) return rc;
  bool no_pin = take_flag(args, "--no-pin");
  if (!args.empty()) return usage_error(g, "unexpected argument \"" + args[0] + "\"");
  nlohmann::json params = {{"pin", !no_pin}};
  if (!kernel.is_null()) params["kernel"] = kernel;
  // Off a terminal, one line per progress reply: the kernel hooks' logs show
  // a slow download happening.
  ProgressDisplay progress(g, true);
  auto r = call_daemon(g, btfd::proto::method::kPrefetch, params, {}, progress.wanted(), std::ref(progress));
  progress.finish(static_cast<bool>(r));
  if (!r) return report_error(g, r.error());
  const auto& res = r->json["parameters"]["result"];
  if (g.quiet) return kExitOk;
  if (g.json) {
    print_json(g, res);
  } else if (!g.quiet) {
    std::printf("%s: %s (%s, %s), pre-minimized for %llu object(s)\n", kernel_string(res["kernel"]).c_str(),
                res.value("fetched", false) ? "fetched" : "already cached", res.value("source", "?").c_str(),
                human_size(res.value("size", 0ull)).c_str(),
                static_cast<unsigned long long>(res.value("objects_minimized", 0ull)));
  }
  return kExitOk;
}

// The refresh timer's command: one line per installed kernel.
int cmd_refresh(const Globals& g, std::vector<std::string>& args) {
  if (!args.empty()) return usage_error(g, "unexpected argument \"" + args[0] + "\"");
  // Several downloads may happen before the one reply: wait up to an hour.
  auto r = call_daemon(g, btfd::proto::method::kRefresh, nlohmann::json::object(), {}, false, {}, 3600 * 1000);
  if (!r) return report_error(g, r.error());
  const auto& p = r->json["parameters"];
  bool failed = false;
  for (const auto& k : p.value("kernels", nlohmann::json::array())) failed |= k.value("outcome", "") == "error";
  if (g.json) {
    print_json(g, p);
  } else if (!g.quiet) {
    for (const auto& k : p.value("kernels", nlohmann::json::array())) {
      std::string outcome = k.value("outcome", "?"), msg = k.value("message", "");
      std::printf("%-48s %s%s%s\n", kernel_string(k.value("kernel", nlohmann::json::object())).c_str(), outcome.c_str(),
                  msg.empty() ? "" : ": ", msg.c_str());
    }
    if (unsigned n = p.value("unpinned", 0u)) std::printf("released the pins of %u kernel(s) booted past\n", n);
  }
  // "not-in-hub" is the hub's answer, not a failure: the next refresh asks again.
  return failed ? kExitFailure : kExitOk;
}

}  // namespace btfctl
