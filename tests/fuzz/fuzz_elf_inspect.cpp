// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: transparent mode's check of what a file is
// (btf_elf's read_ownership, which trusts nothing in it), on arbitrary bytes
// in a memfd. It decides whether btfctl may replace or remove a file, so:
// a file it calls btfd's carries a well-formed marker, and an image
// btf_elf_image() writes around the same bytes is always recognised as ours.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <span>

#include "transparent/btf_elf.hpp"
#include "util/fd.hpp"
#include "util/sha256.hpp"

namespace {

// The bytes as a file's whole content; false when the memfd cannot hold them.
bool refill(int fd, std::span<const uint8_t> bytes) {
  return fd >= 0 && ::ftruncate(fd, 0) == 0 && ::lseek(fd, 0, SEEK_SET) == 0 && btfd::write_all(fd, bytes).ok();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace btfd::transparent;
  static int fd = ::memfd_create("fuzz-elf-inspect", MFD_CLOEXEC);
  std::span<const uint8_t> bytes(data, size);
  if (!refill(fd, bytes)) return 0;
  auto o = read_ownership(fd);
  if (!o) __builtin_trap();  // a memfd reads back: only I/O errors are errors
  if (o->marker.has_value() == !o->not_ours.empty()) __builtin_trap();  // ours, or why not
  if (o->marker && !btfd::is_hex_digest(o->marker->btf_sha256)) __builtin_trap();

  // The same bytes as the .BTF of btfd's own image: ours, with its marker.
  const Marker mine{"6.1.0-fuzz", btfd::sha256_hex(bytes)};
  std::string image = btf_elf_image(bytes, mine);
  if (!refill(fd, std::span(reinterpret_cast<const uint8_t*>(image.data()), image.size()))) return 0;
  auto back = read_ownership(fd);
  if (!back || !back->marker || back->marker->release != mine.release || back->marker->btf_sha256 != mine.btf_sha256)
    __builtin_trap();
  return 0;
}
