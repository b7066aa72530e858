// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The file transparent mode installs: a minimal ELF holding a kernel's raw BTF
// as `.BTF` (what libbpf and cilium/ebpf read from a vmlinux), plus a
// `.note.btfd` note naming it as btfd's, so btfd only ever replaces or removes
// files it wrote. cilium/ebpf 0.9.1 also insists on a symbol table, so the
// image carries an empty `.symtab`. No code, no program headers (ET_REL).

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "util/result.hpp"

namespace btfd::transparent {

// What the note records.
struct Marker {
  std::string release;     // uname -r of the kernel the BTF describes
  std::string btf_sha256;  // of the raw BTF in .BTF
};

// The ELF image, native class and byte order. release must be a valid kernel
// release (kernel/identity.hpp's character set); btf is not interpreted.
std::string btf_elf_image(std::span<const uint8_t> btf, const Marker& marker);

// What a file is, read from its descriptor without trusting it: the marker when
// it is an image btf_elf_image() wrote, otherwise why it is not (a real vmlinux,
// raw BTF, anything else). Errors are I/O errors only.
struct Ownership {
  std::optional<Marker> marker;  // set: btfd's file
  std::string not_ours;          // why not, when marker is unset
};
Result<Ownership> read_ownership(int fd);

}  // namespace btfd::transparent
