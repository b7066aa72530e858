// SPDX-License-Identifier: GPL-2.0-or-later
#include "debuginfo/build_id.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>

#include <cstring>

#include "kernel/identity.hpp"
#include "util/fd.hpp"

namespace btfd::debuginfo {
namespace {

constexpr uint32_t kNoteGnuBuildId = 3;  // NT_GNU_BUILD_ID

uint64_t align4(uint64_t n) { return (n + 3) & ~uint64_t{3}; }

std::string hex(std::span<const uint8_t> bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

}  // namespace

bool is_build_id_hex(std::string_view h) {
  if (h.size() < 2 || h.size() > 2 * kMaxBuildIdBytes || h.size() % 2) return false;
  for (char c : h)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Result<std::optional<std::string>> build_id_from_notes(std::span<const uint8_t> notes) {
  uint64_t off = 0;
  const uint64_t size = notes.size();
  while (size - off >= 12) {
    uint32_t hdr[3];
    std::memcpy(hdr, notes.data() + off, sizeof hdr);
    const uint64_t namesz = hdr[0], descsz = hdr[1], type = hdr[2];
    // 64-bit sums of 32-bit sizes cannot wrap; each is held to what is left.
    const uint64_t name_at = off + 12;
    const uint64_t desc_at = name_at + align4(namesz);
    const uint64_t next = desc_at + align4(descsz);
    if (desc_at > size || desc_at + descsz > size)
      return make_error(Errc::corrupt, "a note at offset " + std::to_string(off) + " runs past the " +
                                           std::to_string(size) + " bytes of notes");
    if (type == kNoteGnuBuildId && namesz == 4 && std::memcmp(notes.data() + name_at, "GNU", 4) == 0) {
      if (descsz == 0 || descsz > kMaxBuildIdBytes)
        return make_error(Errc::corrupt, "the build-id note holds " + std::to_string(descsz) + " bytes (1 to " +
                                             std::to_string(kMaxBuildIdBytes) + " expected)");
      return std::optional<std::string>(hex(notes.subspan(desc_at, descsz)));
    }
    if (next > size) break;  // the last record's padding may be missing
    off = next;
  }
  return std::optional<std::string>();
}

Result<std::optional<std::string>> running_build_id(const std::string& host_root) {
  std::string path = host_path(host_root, "/sys/kernel/notes");
  if (!path_exists(path)) return std::optional<std::string>();
  auto bytes = read_file(path, kMaxNotesBytes);
  if (!bytes) return std::move(bytes).error().wrap("the running kernel's notes \"" + path + "\"");
  auto id = build_id_from_notes(*bytes);
  if (!id) return std::move(id).error().wrap("the running kernel's notes \"" + path + "\"");
  return id;
}

Result<std::optional<std::string>> elf_build_id(const std::string& path) {
  BTFD_TRY(UniqueFd fd, open_file(path, O_RDONLY));
  if (elf_version(EV_CURRENT) == EV_NONE) return make_error(Errc::internal, "libelf is unusable");
  Elf* elf = elf_begin(fd.get(), ELF_C_READ, nullptr);
  if (!elf) return make_error(Errc::corrupt, "\"" + path + "\" is not an ELF file: " + elf_errmsg(-1));
  struct Closer {
    Elf* e;
    ~Closer() { elf_end(e); }
  } closer{elf};
  if (elf_kind(elf) != ELF_K_ELF) return make_error(Errc::corrupt, "\"" + path + "\" is not an ELF file");
  for (Elf_Scn* scn = nullptr; (scn = elf_nextscn(elf, scn)) != nullptr;) {
    GElf_Shdr shdr;
    if (!gelf_getshdr(scn, &shdr)) return make_error(Errc::corrupt, "\"" + path + "\": " + elf_errmsg(-1));
    if (shdr.sh_type != SHT_NOTE) continue;
    // A note section of a real kernel is a few hundred bytes; a huge one is
    // not read (libelf would allocate it whole).
    if (shdr.sh_size > kMaxNotesBytes) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);  // translated to this host's byte order
    if (!data || !data->d_buf) continue;
    auto id = build_id_from_notes(std::span(static_cast<const uint8_t*>(data->d_buf), data->d_size));
    if (!id) return std::move(id).error().wrap("\"" + path + "\"");
    if (*id) return id;
  }
  return std::optional<std::string>();
}

}  // namespace btfd::debuginfo
