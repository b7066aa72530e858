// SPDX-License-Identifier: GPL-2.0-or-later
#include "transparent/btf_elf.hpp"

#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "util/sha256.hpp"

namespace btfd::transparent {
namespace {

// The host's class: libbpf takes the pointer size of the BTF from it.
#if __SIZEOF_POINTER__ == 8
using Ehdr = Elf64_Ehdr;
using Shdr = Elf64_Shdr;
using Sym = Elf64_Sym;
constexpr unsigned char kClass = ELFCLASS64;
#else
using Ehdr = Elf32_Ehdr;
using Shdr = Elf32_Shdr;
using Sym = Elf32_Sym;
constexpr unsigned char kClass = ELFCLASS32;
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr unsigned char kData = ELFDATA2LSB;
#else
constexpr unsigned char kData = ELFDATA2MSB;
#endif

// Section indices, names and types, in file order. The recogniser requires
// exactly these: a real vmlinux has dozens of sections.
enum : unsigned { kNull, kBtf, kNote, kSymtab, kStrtab, kShstrtab, kSections };
struct SectionSpec {
  const char* name;
  uint32_t type;
};
constexpr std::array<SectionSpec, kSections> kSpec = {{{"", SHT_NULL},
                                                      {".BTF", SHT_PROGBITS},
                                                      {".note.btfd", SHT_NOTE},
                                                      {".symtab", SHT_SYMTAB},
                                                      {".strtab", SHT_STRTAB},
                                                      {".shstrtab", SHT_STRTAB}}};
constexpr char kNoteName[] = "btfd";  // the note's owner, NUL included in namesz
constexpr uint32_t kNoteType = 1;     // "transparent BTF"; the only type btfd writes
constexpr size_t kMaxNote = 4096;
constexpr size_t kMaxShstrtab = 256;

size_t align_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

std::string shstrtab_bytes(std::array<uint32_t, kSections>* offsets) {
  std::string s(1, '\0');
  for (unsigned i = 1; i < kSections; ++i) {
    (*offsets)[i] = static_cast<uint32_t>(s.size());
    s += kSpec[i].name;
    s += '\0';
  }
  return s;
}

std::string note_bytes(const Marker& m) {
  std::string desc = "release=" + m.release + "\nbtf_sha256=" + m.btf_sha256 + "\n";
  Elf64_Nhdr h{};  // Elf32_Nhdr has the same layout: three 32-bit words
  h.n_namesz = sizeof kNoteName;
  h.n_descsz = static_cast<uint32_t>(desc.size());
  h.n_type = kNoteType;
  std::string out(reinterpret_cast<const char*>(&h), sizeof h);
  out.append(kNoteName, sizeof kNoteName);
  out.resize(align_up(out.size(), 4), '\0');
  out += desc;
  out.resize(align_up(out.size(), 4), '\0');
  return out;
}

template <class T>
void put(std::string& out, size_t off, const T& v) {
  if (out.size() < off + sizeof v) out.resize(off + sizeof v, '\0');
  std::memcpy(out.data() + off, &v, sizeof v);
}

Status pread_exact(int fd, void* buf, size_t n, uint64_t off) {
  auto* p = static_cast<char*>(buf);
  while (n) {
    ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return sys_error(errno, "read");
    if (r == 0) return make_error(Errc::corrupt, "short file");
    p += r;
    n -= static_cast<size_t>(r);
    off += static_cast<uint64_t>(r);
  }
  return {};
}

bool valid_release(std::string_view r) {
  if (r.empty() || r.size() > 128 || r == "." || r == "..") return false;
  for (unsigned char c : r)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
          c == '_' || c == '+' || c == '~'))
      return false;
  return true;
}

// "release=R\nbtf_sha256=HEX\n", nothing else.
std::optional<Marker> parse_desc(std::string_view d) {
  Marker m;
  constexpr std::string_view kRel = "release=", kSha = "btf_sha256=";
  if (d.substr(0, kRel.size()) != kRel) return std::nullopt;
  d.remove_prefix(kRel.size());
  size_t nl = d.find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  m.release = std::string(d.substr(0, nl));
  d.remove_prefix(nl + 1);
  if (d.substr(0, kSha.size()) != kSha) return std::nullopt;
  d.remove_prefix(kSha.size());
  nl = d.find('\n');
  if (nl == std::string_view::npos || nl + 1 != d.size()) return std::nullopt;
  m.btf_sha256 = std::string(d.substr(0, nl));
  if (!valid_release(m.release) || !is_hex_digest(m.btf_sha256)) return std::nullopt;
  return m;
}

Ownership not_ours(std::string why) { return Ownership{std::nullopt, std::move(why)}; }

}  // namespace

std::string btf_elf_image(std::span<const uint8_t> btf, const Marker& marker) {
  std::array<uint32_t, kSections> name_off{};
  const std::string shstr = shstrtab_bytes(&name_off);
  const std::string note = note_bytes(marker);
  const std::string strtab(1, '\0');
  const Sym null_sym{};

  // Layout: header, .BTF, note, symtab, strtab, shstrtab, section headers.
  std::array<size_t, kSections> off{}, size{}, align{};
  size = {0, btf.size(), note.size(), sizeof null_sym, strtab.size(), shstr.size()};
  align = {0, 8, 4, alignof(Sym), 1, 1};
  size_t pos = sizeof(Ehdr);
  for (unsigned i = 1; i < kSections; ++i) {
    pos = align_up(pos, align[i]);
    off[i] = pos;
    pos += size[i];
  }
  const size_t shoff = align_up(pos, alignof(Shdr));

  std::string out(shoff + kSections * sizeof(Shdr), '\0');
  Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = kClass;
  eh.e_ident[EI_DATA] = kData;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_ident[EI_OSABI] = ELFOSABI_SYSV;
  eh.e_type = ET_REL;  // data only: nothing to load or run
  eh.e_machine = EM_NONE;
  eh.e_version = EV_CURRENT;
  eh.e_shoff = shoff;
  eh.e_ehsize = sizeof(Ehdr);
  eh.e_shentsize = sizeof(Shdr);
  eh.e_shnum = kSections;
  eh.e_shstrndx = kShstrtab;
  put(out, 0, eh);
  if (!btf.empty()) std::memcpy(out.data() + off[kBtf], btf.data(), btf.size());
  std::memcpy(out.data() + off[kNote], note.data(), note.size());
  put(out, off[kSymtab], null_sym);
  std::memcpy(out.data() + off[kStrtab], strtab.data(), strtab.size());
  std::memcpy(out.data() + off[kShstrtab], shstr.data(), shstr.size());

  for (unsigned i = 1; i < kSections; ++i) {
    Shdr sh{};
    sh.sh_name = name_off[i];
    sh.sh_type = kSpec[i].type;
    sh.sh_offset = off[i];
    sh.sh_size = size[i];
    sh.sh_addralign = align[i];
    if (i == kSymtab) {
      sh.sh_link = kStrtab;
      sh.sh_info = 1;  // one past the last local symbol: the null symbol
      sh.sh_entsize = sizeof(Sym);
    }
    put(out, shoff + i * sizeof(Shdr), sh);
  }
  return out;
}

Result<Ownership> read_ownership(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return sys_error(errno, "fstat");
  if (!S_ISREG(st.st_mode)) return not_ours("not a regular file");
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  Ehdr eh{};
  if (file_size < sizeof eh) return not_ours("shorter than an ELF header");
  BTFD_TRY_VOID(pread_exact(fd, &eh, sizeof eh, 0));
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return not_ours("not an ELF file");
  if (eh.e_ident[EI_CLASS] != kClass || eh.e_ident[EI_DATA] != kData)
    return not_ours("an ELF file of another class or byte order");
  if (eh.e_shentsize != sizeof(Shdr) || eh.e_shnum != kSections || eh.e_shstrndx != kShstrtab ||
      eh.e_shoff > file_size || file_size - eh.e_shoff < kSections * sizeof(Shdr))
    return not_ours("an ELF file with other sections than btfd writes (a real vmlinux?)");
  std::array<Shdr, kSections> sh{};
  BTFD_TRY_VOID(pread_exact(fd, sh.data(), sizeof sh, eh.e_shoff));
  // Every section, whatever its type says: the type is checked only after the
  // section names are read, and a hostile file may type any section NULL.
  for (const Shdr& s : sh)
    if (s.sh_offset > file_size || file_size - s.sh_offset < s.sh_size)
      return not_ours("an ELF file whose sections lie past its end");
  const Shdr& names = sh[kShstrtab];
  if (names.sh_size == 0 || names.sh_size > kMaxShstrtab) return not_ours("an ELF file with other section names");
  std::string shstr(names.sh_size, '\0');
  BTFD_TRY_VOID(pread_exact(fd, shstr.data(), shstr.size(), names.sh_offset));
  shstr.back() = '\0';
  for (unsigned i = 1; i < kSections; ++i)
    if (sh[i].sh_name >= shstr.size() || std::strcmp(shstr.c_str() + sh[i].sh_name, kSpec[i].name) != 0 ||
        sh[i].sh_type != kSpec[i].type)
      return not_ours("an ELF file with other sections than btfd writes (a real vmlinux?)");
  const Shdr& n = sh[kNote];
  if (n.sh_size < sizeof(Elf64_Nhdr) + sizeof kNoteName || n.sh_size > kMaxNote)
    return not_ours("an ELF file without btfd's note");
  std::string note(n.sh_size, '\0');
  BTFD_TRY_VOID(pread_exact(fd, note.data(), note.size(), n.sh_offset));
  Elf64_Nhdr nh{};
  std::memcpy(&nh, note.data(), sizeof nh);
  size_t desc_off = sizeof nh + align_up(nh.n_namesz, 4);
  if (nh.n_namesz != sizeof kNoteName || std::memcmp(note.data() + sizeof nh, kNoteName, sizeof kNoteName) != 0 ||
      nh.n_type != kNoteType || desc_off > note.size() || note.size() - desc_off < nh.n_descsz)
    return not_ours("an ELF file without btfd's note");
  auto marker = parse_desc(std::string_view(note).substr(desc_off, nh.n_descsz));
  if (!marker) return not_ours("an ELF file whose btfd note is damaged");
  return Ownership{std::move(marker), {}};
}

}  // namespace btfd::transparent
