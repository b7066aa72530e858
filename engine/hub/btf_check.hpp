// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
#include <cstdint>
#include <span>

#include "hub/archive_reader.hpp"
#include "util/result.hpp"

namespace btfd::hub {

// A downloaded kernel BTF is accepted only if it is at most max_bytes of raw BTF
// in this host's byte order that passes btf::validate_btf (the check every
// untrusted BTF passes: framing, no padding, names, referenced ids), has types,
// and (cheap sanity) defines struct task_struct.
Status check_kernel_btf(std::span<const uint8_t> raw, uint64_t max_bytes = kMaxKernelBtfBytes);
// Same, reading the whole file behind fd (at most max_bytes).
Status check_kernel_btf_fd(int fd, uint64_t max_bytes);

}  // namespace btfd::hub
