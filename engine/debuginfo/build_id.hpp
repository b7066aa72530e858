// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// A kernel's GNU build-id: what ties a debug file to the kernel it was built
// with. The running kernel publishes its notes in /sys/kernel/notes; a
// vmlinux (or its .debug file) carries the same note in a SHT_NOTE section.
// Both are read as untrusted bytes: every size in a note is checked against
// what is left before it is used.

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "util/result.hpp"

namespace btfd::debuginfo {

// A build-id is 1..kMaxBuildIdBytes bytes (GNU ld writes 20: SHA-1); a longer
// one is refused as malformed, so it can never make a long URL or log line.
inline constexpr size_t kMaxBuildIdBytes = 64;
// /sys/kernel/notes is a few hundred bytes; more is not a kernel's notes.
inline constexpr size_t kMaxNotesBytes = 64 * 1024;

// The first NT_GNU_BUILD_ID ("GNU") note's descriptor in a run of ELF note
// records (this host's byte order, 4-byte aligned fields) as lower-case hex;
// nullopt when there is none. A record whose sizes run past the bytes ends
// the walk with Errc::corrupt, as does an empty or over-long build-id.
Result<std::optional<std::string>> build_id_from_notes(std::span<const uint8_t> notes);

// The running kernel's build-id from HOST_ROOT/sys/kernel/notes; nullopt when
// the file is absent (an old kernel, a container without /sys).
Result<std::optional<std::string>> running_build_id(const std::string& host_root);

// The build-id of the ELF file at path (its SHT_NOTE sections, read with
// libelf); nullopt when it has none.
Result<std::optional<std::string>> elf_build_id(const std::string& path);

// A build-id as debuginfod takes it: lower-case hex, even length, 2..128 digits.
bool is_build_id_hex(std::string_view hex);

}  // namespace btfd::debuginfo
