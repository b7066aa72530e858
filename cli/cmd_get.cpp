// SPDX-License-Identifier: GPL-2.0-or-later
// `btfctl get`: BTF for this host or a given kernel, optionally minimized for
// objects (opened here and passed to btfd as descriptors).
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "cli/daemon_call.hpp"
#include "util/fd.hpp"

namespace btfctl {

// --distro/--distro-version/--arch/--release into a Kernel object (null: this host).
bool kernel_options(const Globals& g, std::vector<std::string>& args, nlohmann::json* kernel, int* rc) {
  static const std::pair<const char*, const char*> flags[] = {
      {"--distro", "distro"}, {"--distro-version", "version"}, {"--arch", "arch"}, {"--release", "release"}};
  *kernel = nlohmann::json();
  for (auto [flag, field] : flags) {
    std::string v, err;
    if (take_option(args, flag, &v, &err)) {
      if (kernel->is_null()) *kernel = nlohmann::json::object();
      (*kernel)[field] = v;
    } else if (!err.empty()) {
      *rc = usage_error(g, err);
      return false;
    }
  }
  return true;
}

int cmd_get(const Globals& g, std::vector<std::string>& args) {
  nlohmann::json kernel;
  int rc = 0;
  if (!kernel_options(g, args, &kernel, &rc)) return rc;
  std::string out, err, obj;
  if (!take_option(args, "-o", &out, &err) && !err.empty()) return usage_error(g, err);
  std::vector<btfd::UniqueFd> objects;
  while (take_option(args, "--object", &obj, &err)) {
    auto fd = btfd::open_file(obj, O_RDONLY);
    if (!fd) {
      btfd::Error e = fd.error();
      e.code = btfd::Errc::io;  // a missing local file is not "no BTF for this kernel"
      return report_error(g, e);
    }
    objects.push_back(std::move(fd).value());
  }
  if (!err.empty()) return usage_error(g, err);
  bool refresh = take_flag(args, "--refresh");
  if (!args.empty()) return usage_error(g, "unexpected argument \"" + args[0] + "\"");
  nlohmann::json params = nlohmann::json::object();
  // GetBtf's "refresh": any user may ask the hub again (within their budget).
  if (refresh) params["refresh"] = true;
  if (!kernel.is_null()) params["kernel"] = kernel;
  std::vector<int> fds;
  if (!objects.empty()) {
    params["objects"] = nlohmann::json::array();
    for (size_t i = 0; i < objects.size(); ++i) {
      params["objects"].push_back(i);
      fds.push_back(objects[i].get());
    }
  }
  auto reply = call_daemon(g, "io.btfd.GetBtf", params, fds);
  if (!reply) return report_error(g, reply.error());
  const auto& p = reply->json["parameters"];
  if (reply->fds.empty()) return report_error(g, btfd::make_error(btfd::Errc::protocol, "btfd sent no BTF descriptor"));
  if (!out.empty()) {
    auto bytes = btfd::pread_all(reply->fds[0].get(), 1ull << 31);
    if (!bytes) return report_error(g, bytes.error());
    if (auto st = btfd::write_file_atomic(out, *bytes); !st) return report_error(g, st.error());
  }
  std::string source = p.value("cached", false) ? "cache (" + p.value("source", "?") + ")" : p.value("source", "?");
  if (g.json) {
    nlohmann::json j = p;
    j.erase("fd");
    if (!out.empty()) j["output"] = out;
    print_json(g, j);
    return kExitOk;
  }
  if (g.quiet) {
    std::printf("%s\n", out.empty() ? p.value("path", "").c_str() : out.c_str());
    return kExitOk;
  }
  std::printf("kernel:    %s\n", kernel_string(p["kernel"]).c_str());
  std::printf("btf:       %s\n", out.empty() ? p.value("path", "").c_str() : out.c_str());
  std::printf("size:      %s (%llu bytes)\n", human_size(p.value("size", 0ull)).c_str(),
              static_cast<unsigned long long>(p.value("size", 0ull)));
  std::printf("source:    %s\n", source.c_str());
  std::printf("minimized: %s\n", p.value("minimized", false) ? "yes, for the given objects" : "no (full kernel BTF)");
  std::printf("exact:     %s\n", p.value("exact", false) ? "yes" : "no");
  std::printf("sha256:    %s\n", p.value("sha256", "").c_str());
  return kExitOk;
}

}  // namespace btfctl
