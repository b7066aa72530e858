// SPDX-License-Identifier: GPL-2.0-or-later
#include "btf/object_file.hpp"

#include <gelf.h>
#include <libelf.h>

#include <cerrno>
#include <cstring>

#include "btf/utf8.hpp"

namespace btfd::btf {

Result<ObjectFile> parse_object(std::string name, std::span<const uint8_t> bytes, CallBudget* budget,
                                bool name_in_messages) {
  // Messages are shown as text (JSON replies, logs): the client's name may not be UTF-8.
  const std::string shown = name_in_messages ? "\"" + valid_utf8(name) + "\"" : std::string();
  auto with_name = [&](Error e) { return shown.empty() ? std::move(e) : std::move(e).wrap(shown); };
  auto fail = [&](Errc code, const std::string& what) { return with_name(make_error(code, what)); };
  if (elf_version(EV_CURRENT) == EV_NONE) return fail(Errc::internal, "libelf is unusable");
  if (bytes.size() < 64 || std::memcmp(bytes.data(), "\x7f" "ELF", 4) != 0)
    return fail(Errc::invalid_argument, "not an ELF file");
  // libelf only reads from the buffer; the const_cast is required by its C API.
  std::unique_ptr<Elf, decltype(&elf_end)> elf(
      elf_memory(const_cast<char*>(reinterpret_cast<const char*>(bytes.data())), bytes.size()), elf_end);
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF) return fail(Errc::invalid_argument, "not an ELF file");
  GElf_Ehdr ehdr;
  if (!gelf_getehdr(elf.get(), &ehdr)) return fail(Errc::corrupt, elf_errmsg(-1));
  if (ehdr.e_machine != EM_BPF) return fail(Errc::invalid_argument, "not a BPF object (e_machine is not EM_BPF)");
  // libelf silently sees no sections when their table lies past the end: a
  // truncated file would otherwise read as "has no .BTF section".
  uint64_t headers = uint64_t{ehdr.e_shnum ? ehdr.e_shnum : 1u} * ehdr.e_shentsize;  // 0: the count is in header 0
  if (ehdr.e_shoff != 0 && (ehdr.e_shoff > bytes.size() || headers > bytes.size() - ehdr.e_shoff))
    return fail(Errc::invalid_argument, "is truncated or not a valid ELF file (its section headers lie past its end)");
  size_t shstrndx;
  if (elf_getshdrstrndx(elf.get(), &shstrndx) != 0) return fail(Errc::corrupt, elf_errmsg(-1));
  std::span<const uint8_t> btf_bytes, ext_bytes;
  for (Elf_Scn* scn = nullptr; (scn = elf_nextscn(elf.get(), scn));) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) return fail(Errc::corrupt, elf_errmsg(-1));
    const char* sname = elf_strptr(elf.get(), shstrndx, sh.sh_name);
    if (!sname) return fail(Errc::corrupt, "bad section name");
    if (std::strcmp(sname, ".BTF") && std::strcmp(sname, ".BTF.ext")) continue;
    if (sh.sh_type == SHT_NOBITS || sh.sh_offset > bytes.size() || sh.sh_size > bytes.size() - sh.sh_offset)
      return fail(Errc::corrupt, std::string("section ") + sname + " lies outside the file");
    auto span = bytes.subspan(sh.sh_offset, sh.sh_size);
    (std::strcmp(sname, ".BTF") == 0 ? btf_bytes : ext_bytes) = span;
  }
  if (btf_bytes.empty()) return fail(Errc::invalid_argument, "has no .BTF section (compile with clang -g)");
  ObjectFile obj;
  obj.name = name;
  obj.label = shown;
  obj.charge = Charge(budget);
  // The copy, the view's index (4 bytes per record of at least 12) and the
  // validation's scratch (a few bytes per record, freed when it returns).
  const uint64_t btf_cost = btf_bytes.size() + btf_bytes.size() / 3, scratch = btf_bytes.size();
  {
    Charge validating(budget);
    BTFD_TRY_VOID(obj.charge.add(btf_cost));
    BTFD_TRY_VOID(validating.add(scratch));
    // The view's validation is a superset of what libbpf's btf__new checks, and it
    // names the bad type; a moved vector keeps its buffer, so the view stays valid.
    obj.btf_bytes.assign(btf_bytes.begin(), btf_bytes.end());
    auto view = BtfView::parse(obj.btf_bytes);
    if (!view) return with_name(std::move(view).error().wrap(".BTF"));
    obj.view = std::move(view).value();
  }
  if (!ext_bytes.empty()) {
    auto count = count_core_relos(ext_bytes);
    if (!count) return with_name(std::move(count).error());
    if (budget) BTFD_TRY_VOID(budget->add_relocations(*count));
    BTFD_TRY_VOID(obj.charge.add(uint64_t{*count} * sizeof(CoreRelo)));
    auto relos = parse_core_relos(ext_bytes);
    if (!relos) return with_name(std::move(relos).error());
    obj.relos = std::move(relos).value();
  }
  return obj;
}

}  // namespace btfd::btf
