// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: build-id notes and ELF files as a debuginfod server may
// send them (debuginfo/build_id): the bytes as a run of notes, then as a
// whole file read with libelf. A build-id found is always well-formed hex.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <span>
#include <string>

#include "debuginfo/build_id.hpp"
#include "util/fd.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace btfd::debuginfo;
  std::span<const uint8_t> bytes(data, size);
  auto notes = build_id_from_notes(bytes);
  if (notes && *notes && !is_build_id_hex(**notes)) __builtin_trap();

  static int fd = ::memfd_create("fuzz-build-id", MFD_CLOEXEC);
  if (fd < 0 || ::ftruncate(fd, 0) != 0 || ::lseek(fd, 0, SEEK_SET) != 0 || !btfd::write_all(fd, bytes).ok()) return 0;
  auto elf = elf_build_id("/proc/self/fd/" + std::to_string(fd));
  if (elf && *elf && !is_build_id_hex(**elf)) __builtin_trap();
  return 0;
}
