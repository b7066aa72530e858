// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Builds BPF objects in memory for tests and fuzzers: an ELF relocatable for
// EM_BPF holding a .BTF and a .BTF.ext with CO-RE relocation records, which is
// all parse_object() reads. Written by hand (not with libelf) so a fuzzer can
// wrap arbitrary section bytes at no cost.
#include <elf.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace btfd::test {

// One CO-RE relocation record, as in .BTF.ext (struct bpf_core_relo).
struct CoreReloRecord {
  uint32_t insn_off, type_id, access_str_off, kind;
};

// .BTF.ext: a 32-byte header, no func/line info, one core_relo block for the
// section named at sec_name_off in .BTF.
inline std::vector<uint8_t> btf_ext_bytes(uint32_t sec_name_off, const std::vector<CoreReloRecord>& relos) {
  std::vector<uint32_t> sub{16, sec_name_off, static_cast<uint32_t>(relos.size())};
  for (const auto& r : relos) sub.insert(sub.end(), {r.insn_off, r.type_id, r.access_str_off, r.kind});
  // magic 0xEB9F, version 1, flags 0; hdr_len; func/line info empty; core_relo at 0.
  const uint16_t magic = 0xEB9F;
  const uint32_t first = uint32_t{magic} | 1u << 16;
  std::vector<uint32_t> words{first, 32, 0, 0, 0, 0, 0, static_cast<uint32_t>(sub.size() * 4)};
  words.insert(words.end(), sub.begin(), sub.end());
  const auto* p = reinterpret_cast<const uint8_t*>(words.data());
  return {p, p + words.size() * 4};
}

// An ELF64 ET_REL for EM_BPF with the given .BTF and (when not empty) .BTF.ext.
inline std::vector<uint8_t> bpf_object(std::span<const uint8_t> btf, std::span<const uint8_t> btf_ext) {
  const std::string shstr = std::string("\0.shstrtab\0.BTF\0.BTF.ext\0", 25);
  struct Section {
    uint32_t name;
    std::span<const uint8_t> data;
  };
  std::vector<Section> secs{{1, {reinterpret_cast<const uint8_t*>(shstr.data()), shstr.size()}}, {11, btf}};
  if (!btf_ext.empty()) secs.push_back({16, btf_ext});
  std::vector<uint8_t> out(sizeof(Elf64_Ehdr), 0);
  std::vector<Elf64_Shdr> shdrs(1 + secs.size());
  std::memset(shdrs.data(), 0, shdrs.size() * sizeof(Elf64_Shdr));
  for (size_t i = 0; i < secs.size(); ++i) {
    out.resize((out.size() + 7) / 8 * 8, 0);
    Elf64_Shdr& sh = shdrs[i + 1];
    sh.sh_name = secs[i].name;
    sh.sh_type = i == 0 ? SHT_STRTAB : SHT_PROGBITS;
    sh.sh_offset = out.size();
    sh.sh_size = secs[i].data.size();
    sh.sh_addralign = i == 0 ? 1 : 4;
    out.insert(out.end(), secs[i].data.begin(), secs[i].data.end());
  }
  out.resize((out.size() + 7) / 8 * 8, 0);
  Elf64_Ehdr eh;
  std::memset(&eh, 0, sizeof(eh));
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_REL;
  eh.e_machine = EM_BPF;
  eh.e_version = EV_CURRENT;
  eh.e_shoff = out.size();
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = static_cast<uint16_t>(shdrs.size());
  eh.e_shstrndx = 1;
  std::memcpy(out.data(), &eh, sizeof(eh));
  const auto* sh = reinterpret_cast<const uint8_t*>(shdrs.data());
  out.insert(out.end(), sh, sh + shdrs.size() * sizeof(Elf64_Shdr));
  return out;
}

}  // namespace btfd::test
