// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
#include <cstdint>
#include <span>

#include "util/result.hpp"

namespace btfd::hub {

// A downloaded kernel BTF is accepted only if it is raw BTF in this host's byte
// order that libbpf parses, has types, and (cheap sanity) defines task_struct.
Status check_kernel_btf(std::span<const uint8_t> raw);
// Same, reading the whole file behind fd (at most max_bytes).
Status check_kernel_btf_fd(int fd, uint64_t max_bytes);

}  // namespace btfd::hub
