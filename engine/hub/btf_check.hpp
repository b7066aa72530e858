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
// Same, and the SHA-256 of the very bytes that were checked: one read of the
// file into one snapshot that is both validated and hashed, so the digest the
// store records names exactly what passed (the store then need not hash the
// file again). The snapshot's pages are faulted in by one mmap(MAP_POPULATE),
// not one fault at a time: on a paravirtualised guest each fault costs ~25 us,
// ~30 ms for a 4.5 MB kernel.
Result<Digest> check_kernel_btf_fd_digest(int fd, uint64_t max_bytes);

}  // namespace btfd::hub
