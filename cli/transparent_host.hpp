// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Transparent mode as btfctl sees the host: btfd.conf's [Transparent] and
// [Daemon] HostRoot, the running and installed kernels, and for each kernel
// where its transparent file goes and what is there. Shared by `btfctl
// transparent` and `btfctl status`; reads the file system only.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "transparent/transparent_file.hpp"

namespace btfctl {

struct TransparentKernel {
  std::string release;
  bool running = false;
  bool native_btf = false;  // the kernel has BTF of its own: nothing to install
  btfd::transparent::FileInfo file;
};

// btfd.conf (and its drop-ins) at path; a missing file is the defaults unless
// `required` (the user named it).
btfd::Result<btfd::server::Config> load_btfd_conf(const std::string& path, bool required);

// The running kernel's release (uname -r).
std::string running_release();

// One kernel: where its file goes and what is there.
btfd::Result<TransparentKernel> inspect_kernel(const btfd::server::Config& cfg, const std::string& release);

// The running kernel and every installed one (modules directories), sorted.
btfd::Result<std::vector<TransparentKernel>> inspect_kernels(const btfd::server::Config& cfg);

nlohmann::json to_json(const TransparentKernel& k);

// For `btfctl status`: [{"release", "path"}] of the kernels that have btfd's
// file now, per the installed btfd.conf; empty when it cannot be read.
nlohmann::json transparent_files();

}  // namespace btfctl
