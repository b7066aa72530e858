// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/check_programs.hpp"

#include <gelf.h>
#include <libelf.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <unordered_set>

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
  GElf_Ehdr ehdr;
  if (!gelf_getehdr(elf.get(), &ehdr)) return fail(elf_errmsg(-1));
  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf.get(), &shstrndx) != 0) return fail(elf_errmsg(-1));
  // Executable sections by index, then the function symbols that live in them.
  ObjectPrograms out;
  out.big_endian = ehdr.e_ident[EI_DATA] == ELFDATA2MSB;
  std::vector<std::string> exec_names;
  std::unordered_set<std::string> seen_names;
  std::unordered_map<size_t, size_t> exec_of_section;  // section index -> position in exec_names
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
    if (!seen_names.insert(sname).second)
      return fail(std::string("two executable sections named ") + btfd::btf::valid_utf8(sname));
    // The instructions, copied once: libelf checked that they lie in the image.
    if (sh.sh_size > bytes.size() || sh.sh_size / 8 > UINT32_MAX) return fail(std::string("section ") + btfd::btf::valid_utf8(sname) + " is larger than the file");
    Elf_Data* code = elf_getdata(scn, nullptr);
    if (sh.sh_size > 0 && (!code || !code->d_buf || code->d_size != sh.sh_size))
      return fail(std::string("unreadable section ") + btfd::btf::valid_utf8(sname));
    const auto* first = sh.sh_size > 0 ? static_cast<const uint8_t*>(code->d_buf) : nullptr;
    out.code.push_back({sname, std::vector<uint8_t>(first, first + sh.sh_size)});
    exec_of_section[elf_ndxscn(scn)] = exec_names.size();
    exec_names.emplace_back(sname);
  }
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
    auto it = exec_of_section.find(sym.st_shndx);
    if (it == exec_of_section.end()) continue;
    const char* fname = elf_strptr(elf.get(), symtab_hdr.sh_link, sym.st_name);
    if (!fname) return fail("bad symbol name");
    constexpr uint64_t kInsn = 8;
    const size_t sec = it->second;
    const uint64_t sec_size = out.code[sec].bytes.size();
    // Whole instructions inside the section: what the control-flow analysis
    // reads of a function is then always there.
    if (sym.st_value % kInsn || sym.st_size % kInsn || sym.st_value > sec_size || sym.st_size > sec_size - sym.st_value)
      return fail("function " + btfd::btf::valid_utf8(fname) + " lies outside its section");
    Program p{fname, exec_names[sec],
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

std::span<const uint8_t> code_of(const ObjectPrograms& p, const Program& f) {
  for (const CodeSection& s : p.code)
    if (s.name == f.section) {
      // list_programs checked the bounds; a hand-made list is clamped.
      size_t begin = std::min<size_t>(s.bytes.size(), size_t{f.first_insn} * 8);
      size_t end = std::min<size_t>(s.bytes.size(), size_t{f.end_insn} * 8);
      return std::span<const uint8_t>(s.bytes).subspan(begin, end > begin ? end - begin : 0);
    }
  return {};
}

const Program* program_at(const ObjectPrograms& p, const std::string& section, uint32_t insn) {
  for (const Program& prog : p.programs)
    if (prog.section == section && insn >= prog.first_insn && insn < prog.end_insn) return &prog;
  return nullptr;
}

}  // namespace btfctl::check
