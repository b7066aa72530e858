// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/check_programs.hpp"

#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "btf/utf8.hpp"

namespace btfctl::check {

using btfd::Errc;
using btfd::make_error;

btfd::Result<ObjectPrograms> list_programs(const std::string& name, std::span<const uint8_t> bytes) {
  const std::string shown = "\"" + btfd::btf::valid_utf8(name) + "\"";
  auto fail = [&](const std::string& what) { return make_error(Errc::corrupt, shown + ": " + what); };
  if (elf_version(EV_CURRENT) == EV_NONE) return make_error(Errc::internal, "libelf is unusable");
  if (bytes.size() < 64 || std::memcmp(bytes.data(), "\x7f" "ELF", 4) != 0)
    return make_error(Errc::invalid_argument, shown + ": not an ELF file");
  // libelf only reads from the buffer; its C API wants a char*.
  std::unique_ptr<Elf, decltype(&elf_end)> elf(
      elf_memory(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())), bytes.size()), elf_end);
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF) return make_error(Errc::invalid_argument, shown + ": not an ELF file");
  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf.get(), &shstrndx) != 0) return fail(elf_errmsg(-1));
  // Executable sections by index, then the function symbols that live in them.
  std::vector<std::string> exec_names;
  std::vector<size_t> exec_index;
  Elf_Scn* symtab = nullptr;
  GElf_Shdr symtab_hdr{};
  for (Elf_Scn* scn = nullptr; (scn = elf_nextscn(elf.get(), scn));) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) return fail(elf_errmsg(-1));
    if (sh.sh_type == SHT_SYMTAB) {
      symtab = scn;
      symtab_hdr = sh;
    }
    if (sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_EXECINSTR)) continue;
    const char* sname = elf_strptr(elf.get(), shstrndx, sh.sh_name);
    if (!sname) return fail("bad section name");
    exec_names.emplace_back(sname);
    exec_index.push_back(elf_ndxscn(scn));
  }
  ObjectPrograms out;
  if (!symtab) return out;  // stripped: relocations are named by section only
  Elf_Data* data = elf_getdata(symtab, nullptr);
  if (!data || symtab_hdr.sh_entsize == 0) return fail("unreadable symbol table");
  size_t count = symtab_hdr.sh_size / symtab_hdr.sh_entsize;
  constexpr size_t kMaxSymbols = 1u << 20;
  if (count > kMaxSymbols) return fail("too many symbols");
  for (size_t i = 0; i < count; ++i) {
    GElf_Sym sym;
    if (!gelf_getsym(data, static_cast<int>(i), &sym)) return fail("unreadable symbol " + std::to_string(i));
    if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_size == 0) continue;
    auto it = std::find(exec_index.begin(), exec_index.end(), sym.st_shndx);
    if (it == exec_index.end()) continue;
    const char* fname = elf_strptr(elf.get(), symtab_hdr.sh_link, sym.st_name);
    if (!fname) return fail("bad symbol name");
    constexpr uint64_t kInsn = 8;
    if (sym.st_value / kInsn > UINT32_MAX || (sym.st_value + sym.st_size) / kInsn > UINT32_MAX)
      return fail(std::string("function ") + fname + " lies outside its section");
    Program p{fname, exec_names[static_cast<size_t>(it - exec_index.begin())],
              static_cast<uint32_t>(sym.st_value / kInsn), static_cast<uint32_t>((sym.st_value + sym.st_size) / kInsn)};
    (p.section == ".text" ? out.subprograms : out.programs).push_back(std::move(p));
  }
  auto order = [](const Program& a, const Program& b) {
    return a.section != b.section ? a.section < b.section : a.first_insn < b.first_insn;
  };
  std::sort(out.programs.begin(), out.programs.end(), order);
  std::sort(out.subprograms.begin(), out.subprograms.end(), order);
  return out;
}

const Program* program_at(const ObjectPrograms& p, const std::string& section, uint32_t insn) {
  for (const Program& prog : p.programs)
    if (prog.section == section && insn >= prog.first_insn && insn < prog.end_insn) return &prog;
  return nullptr;
}

}  // namespace btfctl::check
