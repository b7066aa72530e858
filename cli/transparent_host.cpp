// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/transparent_host.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>

#include "btfd-config.h"
#include "kernel/identity.hpp"
#include "upgrade/installed.hpp"

namespace btfctl {

btfd::Result<btfd::server::Config> load_btfd_conf(const std::string& path, bool required) {
  btfd::server::Config cfg = btfd::server::default_config();
  BTFD_TRY_VOID(btfd::server::load_config_files(cfg, path, required));
  return cfg;
}

std::string running_release() {
  struct utsname u {};
  return ::uname(&u) == 0 ? u.release : "";
}

btfd::Result<TransparentKernel> inspect_kernel(const btfd::server::Config& cfg, const std::string& release) {
  BTFD_TRY_VOID(btfd::validate_identity({"x", "x", "x", release}));
  TransparentKernel k;
  k.release = release;
  k.running = release == running_release();
  std::string path = btfd::transparent::expand_path_template(cfg.transparent_path, release, cfg.host_root);
  BTFD_TRY(k.file, btfd::transparent::inspect_file(path));
  // Native: the running kernel's /sys/kernel/btf/vmlinux, or a vmlinux with
  // .BTF where btfd's watcher looks (not btfd's own file, should Path= point there).
  if (k.running && ::access(btfd::host_path(cfg.host_root, "/sys/kernel/btf/vmlinux").c_str(), R_OK) == 0) {
    k.native_btf = true;
  } else {
    std::string vmlinux = btfd::upgrade::native_btf_for(cfg.host_root, cfg.boot_dir, release);
    k.native_btf = !vmlinux.empty() && !(vmlinux == path && k.file.state == btfd::transparent::FileState::ours);
  }
  return k;
}

btfd::Result<std::vector<TransparentKernel>> inspect_kernels(const btfd::server::Config& cfg) {
  std::vector<std::string> releases = btfd::upgrade::installed_releases(cfg.host_root, cfg.module_dirs);
  std::string running = running_release();
  if (!running.empty() && std::find(releases.begin(), releases.end(), running) == releases.end())
    releases.push_back(running);
  std::sort(releases.begin(), releases.end());
  std::vector<TransparentKernel> out;
  for (const auto& r : releases) {
    // A directory named like no release (btfd's watcher ignores it too) is skipped.
    if (!btfd::validate_identity({"x", "x", "x", r})) continue;
    BTFD_TRY(auto k, inspect_kernel(cfg, r));
    out.push_back(std::move(k));
  }
  return out;
}

nlohmann::json to_json(const TransparentKernel& k) {
  nlohmann::json j = {{"release", k.release},
                      {"running", k.running},
                      {"native_btf", k.native_btf},
                      {"path", k.file.path},
                      {"state", btfd::transparent::file_state_name(k.file.state)}};
  if (k.file.state != btfd::transparent::FileState::absent) j["size"] = k.file.size;
  if (k.file.state == btfd::transparent::FileState::ours) j["btf_sha256"] = k.file.btf_sha256;
  if (k.file.state == btfd::transparent::FileState::foreign) j["reason"] = k.file.not_ours;
  return j;
}

nlohmann::json transparent_files() {
  nlohmann::json out = nlohmann::json::array();
  auto cfg = load_btfd_conf(BTFD_DEFAULT_CONFIG, false);
  if (!cfg) return out;
  auto kernels = inspect_kernels(*cfg);
  if (!kernels) return out;
  for (const auto& k : *kernels)
    if (k.file.state == btfd::transparent::FileState::ours) out.push_back({{"release", k.release}, {"path", k.file.path}});
  return out;
}

}  // namespace btfctl
