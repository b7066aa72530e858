// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
#include <cstdint>
#include <span>

#include "hub/archive_reader.hpp"
#include "util/result.hpp"
#include "util/sha256.hpp"

namespace btfd::hub {

// A downloaded kernel BTF is accepted only if it is at most max_bytes of raw BTF
// in this host's byte order that passes btf::validate_btf (the check every
// untrusted BTF passes: framing, no padding, names, referenced ids), has types,
// and (cheap sanity) defines struct task_struct.
Status check_kernel_btf(std::span<const uint8_t> raw, uint64_t max_bytes = kMaxKernelBtfBytes);
// Same, reading the whole file behind fd (at most max_bytes).
Status check_kernel_btf_fd(int fd, uint64_t max_bytes);
// How check_kernel_btf_fd_digest reads the file.
enum class Snapshot {
  // Into a private copy: right whoever else holds the file open. Its pages
  // are faulted in by one mmap(MAP_POPULATE), not one fault at a time (on a
  // paravirtualised guest each fault costs ~10-25 us), yet fresh memory
  // still costs ~7 ms for a 4.5 MB kernel.
  copy,
  // Mapped where it is (shared, read-only): no copy and no fresh memory (a
  // file that cannot be mapped is read into a copy after all).
  // Only when nobody else can write or truncate the file while it is checked
  // and stored, as with a reaped btfd-fetch, which cannot start processes
  // (util/no_new_processes.hpp): a change meanwhile would make the digest
  // name other bytes than those checked, and a truncation would kill the
  // reader (SIGBUS).
  in_place,
};

// Same, and the SHA-256 of the very bytes that were checked: the file read
// once, validated and hashed (on two threads), so the digest the store
// records names exactly what passed (the store then need not hash the file
// again).
Result<Digest> check_kernel_btf_fd_digest(int fd, uint64_t max_bytes, Snapshot how = Snapshot::copy);

}  // namespace btfd::hub
