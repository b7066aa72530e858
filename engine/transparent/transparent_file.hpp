// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Transparent mode's files on the host: where a kernel's file goes (the path
// template), what is there now (absent, btfd's, someone else's), and installing
// or removing btfd's own file. Run as root by btfctl from the kernel hooks and
// btfd-transparent.service; the daemon itself never writes outside its cache.
//
// The default location, /lib/modules/<release>/vmlinux-<release>, is the second
// place both libbpf (1.1) and cilium/ebpf (0.9.1) look after
// /sys/kernel/btf/vmlinux. cilium/ebpf stops at the first file that exists, so
// the file must come before the debug-package locations
// (/usr/lib/debug/boot/vmlinux-R from Debian/Ubuntu -dbg packages,
// /usr/lib/debug/lib/modules/R/vmlinux from Fedora/RHEL debuginfo) that a real,
// BTF-less vmlinux may occupy; /boot/vmlinux-R, the only earlier place, is the
// kernel image itself on some distributions and architectures. No package
// ships vmlinux-R inside the modules directory.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace btfd::transparent {

inline constexpr std::string_view kDefaultPathTemplate = "/lib/modules/%v/vmlinux-%v";

// An absolute path naming the release with %v (systemd's specifier for the
// kernel release); %% is a literal %. No other specifier, no "." or ".."
// component, at most 512 characters.
Status validate_path_template(std::string_view tmpl);
// The template with %v replaced, below host_root ("" or "/" for none).
std::string expand_path_template(std::string_view tmpl, std::string_view release, const std::string& host_root = "");

enum class FileState { absent, ours, foreign };
const char* file_state_name(FileState s);  // "absent", "installed", "foreign"

struct FileInfo {
  std::string path;
  FileState state = FileState::absent;
  std::string release;     // ours: the release the note names
  std::string btf_sha256;  // ours: of the BTF inside
  uint64_t size = 0;       // ours or foreign: the file's size
  std::string not_ours;    // foreign: why btfd leaves it alone
};

// What is at path (not following a symbolic link there: a link is foreign).
Result<FileInfo> inspect_file(const std::string& path);

// Writes btf for release to path as btfd's ELF image: temp file in the same
// directory, fsync, rename, fsync of the directory; mode 0644. The BTF must pass
// btf::validate_btf (the project's one check of untrusted BTF) and hold types:
// root writes it where every eBPF tool on the host reads it, so bytes from btfd
// are not trusted either (Errc::corrupt, nothing written). Replaces only btfd's
// own file; a foreign file there is left alone (Errc::permission, the message
// says why). The directory must exist: the modules directory of an installed
// kernel (creating it would make the kernel look installed). Removes the
// leftover temp files of path first (remove_leftover_temps).
Result<FileInfo> install_file(const std::string& path, std::span<const uint8_t> btf, std::string_view release);

struct Removed {
  bool file = false;  // btfd's file was there and is gone
  size_t temps = 0;   // leftover temp files removed with it
};
// Removes btfd's file at path and its leftover temp files. A foreign file is
// left alone (Errc::permission; its leftover temps go all the same).
Result<Removed> remove_file(const std::string& path);

// Removes what an install killed before its rename (the kernel hook's timeout,
// a stopped oneshot) left beside path: the temp files write_file_atomic names
// "<file>.tmp.<decimal>" (util/fd.hpp is_atomic_temp_name), and only regular
// files with exactly such a name: not a symbolic link or a directory, not a
// similar name, nothing else in the directory. Returns how many went; a
// missing directory has none. install_file and remove_file do it too, under
// the lock that keeps them from removing a temp file another btfctl is still
// writing (an exclusive flock(2) on the directory, taken by every install and
// remove).
Result<size_t> remove_leftover_temps(const std::string& path);

}  // namespace btfd::transparent
