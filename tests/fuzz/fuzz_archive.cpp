// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: the hub's archive reader on arbitrary bytes.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#include "hub/archive_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static int out = memfd_create("fuzz-out", MFD_CLOEXEC);
  if (ftruncate(out, 0) < 0 || lseek(out, 0, SEEK_SET) < 0) return 0;
  btfd::hub::ExtractLimits limits;
  limits.max_output_bytes = 1 << 20;
  (void)btfd::hub::extract_btf_from_memory({data, size}, "r", out, limits);
  return 0;
}
