// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The raw bytes of a BTF built with libbpf's writer, as the engine reads them.
#include <bpf/btf.h>

#include <cstdint>
#include <vector>

namespace btfd::test {

inline std::vector<uint8_t> raw_of(const struct btf* b) {
  __u32 size = 0;
  auto p = static_cast<const uint8_t*>(btf__raw_data(b, &size));
  return {p, p + size};
}

}  // namespace btfd::test
