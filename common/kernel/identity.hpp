// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once
// Which kernel a BTF belongs to: the btfhub-archive key
// <os-release ID>/<VERSION_ID>/<arch>/<uname -r>.

#include <string>
#include <string_view>

#include "util/result.hpp"

namespace btfd {

struct KernelIdentity {
  std::string distro_id;       // os-release ID, e.g. "ubuntu"
  std::string distro_version;  // os-release VERSION_ID, e.g. "20.04"
  std::string arch;            // archive naming: x86_64, arm64, ...
  std::string release;         // uname -r

  // "ubuntu/20.04/x86_64/5.4.0-26-generic": the archive path without suffix.
  std::string hub_path() const;
  std::string to_string() const { return hub_path(); }
  bool operator==(const KernelIdentity&) const = default;
};

struct OsRelease {
  std::string id;
  std::string version_id;
};

// Parses os-release(5) text: KEY=value lines with optional shell quoting.
OsRelease parse_os_release(std::string_view text);

// os-release + uname as they are: ID/VERSION_ID ("rolling" when there is no
// VERSION_ID), the machine in archive naming, the release. Where the archive
// keeps them is DistroMap's business (kernel/distro_map.hpp).
KernelIdentity identity_from(const OsRelease& os, std::string_view machine, std::string release);

// Maps uname's machine to the archive's directory name (aarch64 -> arm64).
std::string archive_arch(std::string_view machine);

// Rejects components that could escape the archive layout or are implausible
// ("..", "/", empty, control characters, over-long).
Status validate_identity(const KernelIdentity& id);

struct HostInfo {
  KernelIdentity identity;       // the running kernel
  std::string native_btf_path;   // empty when the kernel has no built-in BTF
};

// Identity of the running kernel. host_root ("" or "/" for none) prefixes
// etc/os-release (falling back to usr/lib/os-release) and sys/kernel/btf/vmlinux,
// for agents in containers that mount the host's filesystem elsewhere.
Result<HostInfo> detect_host(const std::string& host_root = "");

// Joins a host root prefix and an absolute path.
std::string host_path(const std::string& host_root, std::string_view abs_path);

}  // namespace btfd
