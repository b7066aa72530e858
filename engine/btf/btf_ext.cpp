// SPDX-License-Identifier: GPL-2.0-or-later
#include "btf/btf_ext.hpp"

#include <cstring>
#include <string>

namespace btfd::btf {
namespace {

uint32_t rd32(std::span<const uint8_t> b, size_t off) {
  uint32_t v;
  std::memcpy(&v, b.data() + off, 4);
  return v;
}

Error bad(const std::string& what) { return make_error(Errc::corrupt, ".BTF.ext: " + what); }

// Checks one subsection's placement: inside the section, 4-byte aligned.
Status check_subsection(std::span<const uint8_t> ext, uint32_t hdr_len, uint32_t off, uint32_t len,
                        const char* name) {
  uint64_t start = uint64_t{hdr_len} + off;
  if (start + len > ext.size()) return bad(std::string(name) + " subsection lies outside the section");
  if (start % 4) return bad(std::string(name) + " subsection is not 4-byte aligned");
  return {};
}

// Where the core_relo records lie, every check of libbpf's layout rules done
// (insn_off alignment too): count_core_relos() and parse_core_relos() share it,
// so a caller learns the count before anything is allocated for it.
struct CoreReloLayout {
  size_t begin = 0, end = 0;  // the section blocks
  uint32_t rec_size = 0;
  uint32_t count = 0;
};

Result<CoreReloLayout> core_relo_layout(std::span<const uint8_t> ext) {
  CoreReloLayout lay;
  if (ext.size() < 8) return bad("truncated header");
  uint16_t magic;
  std::memcpy(&magic, ext.data(), 2);
  if (magic == 0x9FEB) return make_error(Errc::unsupported, ".BTF.ext: non-native endianness is not supported");
  if (magic != 0xEB9F) return bad("bad magic");
  if (ext[2] != 1) return bad("unsupported version " + std::to_string(ext[2]));
  if (ext[3] != 0) return bad("unsupported flags");
  uint32_t hdr_len = rd32(ext, 4);
  if (hdr_len < 24) return bad("header too short");
  if (hdr_len >= ext.size()) return bad("section is not larger than its header");
  for (uint32_t field : {8u, 16u}) {  // func_info, line_info: placement only
    uint32_t off = rd32(ext, field), len = rd32(ext, field + 4);
    if (len) BTFD_TRY_VOID(check_subsection(ext, hdr_len, off, len, field == 8 ? "func_info" : "line_info"));
  }
  if (hdr_len < 32) return lay;
  uint32_t off = rd32(ext, 24), len = rd32(ext, 28);
  if (len == 0) return lay;
  BTFD_TRY_VOID(check_subsection(ext, hdr_len, off, len, "core_relo"));
  size_t pos = hdr_len + off, end = pos + len;
  if (len < 4) return bad("core_relo subsection has no record size");
  uint32_t rec_size = rd32(ext, pos);
  pos += 4;
  if (rec_size < 16 || rec_size % 4) return bad("core_relo record size " + std::to_string(rec_size) + " is invalid");
  if (pos == end) return bad("core_relo subsection has no section blocks");
  lay = {pos, end, rec_size, 0};
  while (pos < end) {
    if (end - pos < 8) return bad("truncated core_relo section block header");
    uint32_t num = rd32(ext, pos + 4);
    pos += 8;
    if (num == 0) return bad("core_relo section block with no records");
    if (uint64_t{num} * rec_size > end - pos) return bad("core_relo records run past the end of the subsection");
    if (uint64_t{lay.count} + num > kMaxCoreRelos) return make_error(Errc::too_large, ".BTF.ext: too many CO-RE relocations");
    for (uint32_t i = 0; i < num; ++i, pos += rec_size)
      if (rd32(ext, pos) % 8) return bad("CO-RE relocation #" + std::to_string(i) + " has a misaligned insn_off");
    lay.count += num;
  }
  return lay;
}

}  // namespace

Result<uint32_t> count_core_relos(std::span<const uint8_t> ext) {
  BTFD_TRY(CoreReloLayout lay, core_relo_layout(ext));
  return lay.count;
}

Result<std::vector<CoreRelo>> parse_core_relos(std::span<const uint8_t> ext) {
  BTFD_TRY(CoreReloLayout lay, core_relo_layout(ext));
  std::vector<CoreRelo> out;
  out.reserve(lay.count);
  for (size_t pos = lay.begin; pos < lay.end;) {
    uint32_t sec = rd32(ext, pos), num = rd32(ext, pos + 4);
    pos += 8;
    for (uint32_t i = 0; i < num; ++i, pos += lay.rec_size)
      out.push_back({sec, i, rd32(ext, pos), rd32(ext, pos + 4), rd32(ext, pos + 8), rd32(ext, pos + 12)});
  }
  return out;
}

}  // namespace btfd::btf
