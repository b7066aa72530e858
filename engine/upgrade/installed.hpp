// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// What is installed on the host right now: kernel releases (one modules
// directory each) and whether a release carries its own BTF.

#include <string>
#include <vector>

namespace btfd::upgrade {

// Releases with a directory under any of module_dirs (below host_root), sorted, unique.
std::vector<std::string> installed_releases(const std::string& host_root, const std::vector<std::string>& module_dirs);
// Path of a vmlinux for release that has a .BTF section (debug package, modules
// directory or boot directory), or "" when the release ships no BTF of its own.
std::string native_btf_for(const std::string& host_root, const std::string& boot_dir, const std::string& release);
// True if the file is an ELF with a non-empty .BTF section.
bool elf_has_btf(const std::string& path);

}  // namespace btfd::upgrade
