// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Where distributions install a kernel's debug info, and the lookup of one
// release's files under the host root. Only these places are looked at: a
// client names a release or a module, never a path.
//   Debian/Ubuntu (linux-image-*-dbg): /usr/lib/debug/boot/vmlinux-R,
//                                      /usr/lib/debug/lib/modules/R/vmlinux
//   RHEL family (kernel-debuginfo):    /usr/lib/debug/lib/modules/R/vmlinux
//   modules:                           /usr/lib/debug/lib/modules/R/kernel/**/M.ko[.debug]

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace btfd::debuginfo {

struct Lookup {
  std::optional<std::string> path;      // the file found, with the host root
  std::vector<std::string> looked_in;   // every place tried, as on the host (for errors)
};

// The places a release's vmlinux debug file may be, in the order tried.
std::vector<std::string> kernel_debug_paths(std::string_view release);
// The first regular file among kernel_debug_paths under host_root. A release
// that is not a plain file name component finds nothing (Errc::invalid_argument).
Result<Lookup> find_kernel_debug(const std::string& host_root, std::string_view release);

// A module name as modprobe takes it: [A-Za-z0-9_-], 1..kMaxModuleName bytes.
inline constexpr size_t kMaxModuleName = 64;
bool is_module_name(std::string_view name);
// Module names treat '-' and '_' alike (the kernel does): "nf-tables" is nf_tables.
std::string canonical_module_name(std::string_view name);
// The debug file of module `name` for a release: a walk of
// /usr/lib/debug/lib/modules/R (at most kMaxWalkEntries entries, depth 12),
// matching NAME.ko or NAME.ko.debug with '-' and '_' alike.
inline constexpr size_t kMaxWalkEntries = 200000;
Result<Lookup> find_module_debug(const std::string& host_root, std::string_view release, std::string_view name);

}  // namespace btfd::debuginfo
