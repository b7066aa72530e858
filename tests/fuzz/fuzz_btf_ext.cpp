// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: BPF objects and their .BTF.ext as clients send them. The
// input is tried both as a raw .BTF.ext section and as a whole ELF object.
#include <cstdint>

#include "btf/btf_ext.hpp"
#include "btf/object_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  (void)btfd::btf::parse_core_relos(bytes);
  (void)btfd::btf::parse_object("fuzz.o", bytes);
  return 0;
}
