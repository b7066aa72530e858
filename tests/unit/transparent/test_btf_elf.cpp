// SPDX-License-Identifier: GPL-2.0-or-later
// The transparent ELF image: libbpf reads its .BTF as a vmlinux's (type for
// type), libelf sees exactly the sections cilium/ebpf needs, and the ownership
// check recognises btfd's images and nothing else.
#include <bpf/btf.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <set>
#include <type_traits>

#include "small_btf.hpp"
#include "support/temp_dir.hpp"
#include "transparent/btf_elf.hpp"
#include "util/fd.hpp"
#include "util/sha256.hpp"

using namespace btfd;
using namespace btfd::transparent;

namespace {

using test::small_btf;

std::string write_image(const test::TempDir& dir, const std::string& name, const std::string& image) {
  std::string path = dir / name;
  REQUIRE(write_file_atomic(path, std::span(reinterpret_cast<const uint8_t*>(image.data()), image.size())).ok());
  return path;
}

Ownership ownership_of(const std::string& path) {
  auto fd = open_file(path, O_RDONLY);
  REQUIRE(fd.ok());
  auto o = read_ownership(fd->get());
  REQUIRE(o.ok());
  return *o;
}

}  // namespace

TEST_CASE("libbpf parses the image as an ELF vmlinux with the same types") {
  test::TempDir dir;
  auto raw = small_btf();
  std::string path = write_image(dir, "vmlinux-6.1.0-test", btf_elf_image(raw, {"6.1.0-test", sha256_hex(raw)}));
  struct btf* from_elf = btf__parse_elf(path.c_str(), nullptr);
  REQUIRE_MESSAGE(from_elf, "libbpf refused the image");
  CHECK(btf__type_cnt(from_elf) == 4);
  CHECK(btf__find_by_name_kind(from_elf, "task_struct", BTF_KIND_STRUCT) == 2);
  CHECK(btf__pointer_size(from_elf) == sizeof(void*));
  uint32_t size = 0;
  const void* back = btf__raw_data(from_elf, &size);
  CHECK(std::vector<uint8_t>(static_cast<const uint8_t*>(back), static_cast<const uint8_t*>(back) + size) == raw);
  btf__free(from_elf);
}

// A real kernel's BTF: the fixture kernel (tests/data, unpacked by meson) on
// every host, and this machine's own when it has one.
namespace {
void check_round_trip(const char* kernel) {
  CAPTURE(kernel);
  auto raw = read_file(kernel, 512u << 20);
  REQUIRE_MESSAGE(raw.ok(), (raw.ok() ? "" : raw.error().message));
  test::TempDir dir;
  std::string path = write_image(dir, "vmlinux", btf_elf_image(*raw, {"6.1.0-x", sha256_hex(*raw)}));
  struct btf* a = btf__parse_raw(kernel);
  struct btf* b = btf__parse(path.c_str(), nullptr);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(btf__type_cnt(a) > 1000);
  CHECK(btf__type_cnt(a) == btf__type_cnt(b));
  CHECK(btf__find_by_name_kind(b, "task_struct", BTF_KIND_STRUCT) ==
        btf__find_by_name_kind(a, "task_struct", BTF_KIND_STRUCT));
  CHECK(btf__find_by_name_kind(b, "task_struct", BTF_KIND_STRUCT) > 0);
  uint32_t size = 0;
  const void* back = btf__raw_data(b, &size);
  CHECK(std::vector<uint8_t>(static_cast<const uint8_t*>(back), static_cast<const uint8_t*>(back) + size) == *raw);
  btf__free(a);
  btf__free(b);
}
}  // namespace

TEST_CASE("a real kernel's BTF survives the round trip through the image: the fixture kernel's and this one's") {
  const char* fixture = std::getenv("BTFD_FIXTURE_KERNEL_BTF");
  REQUIRE_MESSAGE(fixture != nullptr, "BTFD_FIXTURE_KERNEL_BTF is set by tests/data/meson.build");
  check_round_trip(fixture);
  if (::access("/sys/kernel/btf/vmlinux", R_OK) == 0) check_round_trip("/sys/kernel/btf/vmlinux");
}

TEST_CASE("the sections are the ones cilium/ebpf needs: .BTF, a symbol table, the note") {
  test::TempDir dir;
  auto raw = small_btf();
  std::string path = write_image(dir, "v", btf_elf_image(raw, {"5.4.0-26-generic", sha256_hex(raw)}));
  elf_version(EV_CURRENT);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  Elf* elf = elf_begin(fd, ELF_C_READ, nullptr);
  REQUIRE(elf);
  size_t shstrndx = 0;
  REQUIRE(elf_getshdrstrndx(elf, &shstrndx) == 0);
  std::set<std::string> names;
  for (Elf_Scn* scn = nullptr; (scn = elf_nextscn(elf, scn));) {
    GElf_Shdr sh;
    REQUIRE(gelf_getshdr(scn, &sh));
    std::string name = elf_strptr(elf, shstrndx, sh.sh_name);
    names.insert(name);
    if (name == ".symtab") {
      CHECK(sh.sh_type == SHT_SYMTAB);
      CHECK(sh.sh_size == sh.sh_entsize);  // the null symbol only
    }
    if (name == ".BTF") CHECK(sh.sh_size == raw.size());
  }
  CHECK(names == std::set<std::string>{".BTF", ".note.btfd", ".symtab", ".strtab", ".shstrtab"});
  GElf_Ehdr eh;
  REQUIRE(gelf_getehdr(elf, &eh));
  CHECK(eh.e_type == ET_REL);
  CHECK(eh.e_phnum == 0);
  elf_end(elf);
  ::close(fd);
}

TEST_CASE("ownership: btfd's image carries its marker; other files are named foreign with a reason") {
  test::TempDir dir;
  auto raw = small_btf();
  std::string sha = sha256_hex(raw);
  auto ours = ownership_of(write_image(dir, "ours", btf_elf_image(raw, {"6.1.0-18-amd64", sha})));
  REQUIRE(ours.marker);
  CHECK(ours.marker->release == "6.1.0-18-amd64");
  CHECK(ours.marker->btf_sha256 == sha);

  // Raw BTF (what /sys/kernel/btf/vmlinux holds) is not btfd's file.
  auto raw_o = ownership_of(write_image(dir, "raw", std::string(raw.begin(), raw.end())));
  CHECK_FALSE(raw_o.marker);
  CHECK(raw_o.not_ours == "not an ELF file");
  CHECK_FALSE(ownership_of(write_image(dir, "empty", "")).marker);

  // A real ELF with .BTF and more sections (this test program itself, or any
  // binary) is a "real vmlinux" to leave alone.
  auto self = read_file("/proc/self/exe", 1u << 30);
  REQUIRE(self.ok());
  auto exe = ownership_of(write_image(dir, "exe", std::string(self->begin(), self->end())));
  CHECK_FALSE(exe.marker);
  CHECK(exe.not_ours.find("real vmlinux") != std::string::npos);

  // The image with its note's owner changed is not btfd's any more.
  std::string forged = btf_elf_image(raw, {"6.1.0-18-amd64", sha});
  auto at = forged.find("btfd");
  REQUIRE(at != std::string::npos);
  forged[at] = 'x';
  auto f = ownership_of(write_image(dir, "forged", forged));
  CHECK_FALSE(f.marker);
  CHECK(f.not_ours == "an ELF file without btfd's note");

  // A damaged note (release with a slash) is refused, not parsed.
  std::string damaged = btf_elf_image(raw, {"6.1.0-18-amd64", sha});
  auto rel = damaged.find("release=6.1.0");
  REQUIRE(rel != std::string::npos);
  damaged[rel + 9] = '/';
  CHECK(ownership_of(write_image(dir, "damaged", damaged)).not_ours == "an ELF file whose btfd note is damaged");

  // Cut short: section headers past the end.
  std::string cut = btf_elf_image(raw, {"6.1.0-18-amd64", sha});
  cut.resize(cut.size() - 10);
  CHECK_FALSE(ownership_of(write_image(dir, "cut", cut)).marker);
}

// Found by fuzz-elf-inspect: a section header of type SHT_NULL was not held
// to the file's bounds, so a section-name table typed NULL whose offset lies
// past the end made read_ownership fail ("short file") instead of answering.
TEST_CASE("ownership: a section of any type that lies past the end is foreign, not an error") {
  test::TempDir dir;
  auto raw = small_btf();
  std::string img = btf_elf_image(raw, {"6.1.0-18-amd64", sha256_hex(raw)});
  // The image is of the host's class, as btf_elf_image writes it.
  using Ehdr = std::conditional_t<sizeof(void*) == 8, Elf64_Ehdr, Elf32_Ehdr>;
  using Shdr = std::conditional_t<sizeof(void*) == 8, Elf64_Shdr, Elf32_Shdr>;
  Ehdr eh;
  REQUIRE(img.size() >= sizeof eh);
  std::memcpy(&eh, img.data(), sizeof eh);
  for (unsigned i = 1; i < eh.e_shnum; ++i) {
    std::string bad = img;
    Shdr sh;
    const size_t at = eh.e_shoff + i * sizeof sh;
    REQUIRE(at + sizeof sh <= bad.size());
    std::memcpy(&sh, bad.data() + at, sizeof sh);
    sh.sh_type = SHT_NULL;
    sh.sh_offset = bad.size() + 4096;
    std::memcpy(bad.data() + at, &sh, sizeof sh);
    auto fd = open_file(write_image(dir, "null-" + std::to_string(i), bad), O_RDONLY);
    REQUIRE(fd.ok());
    auto o = read_ownership(fd->get());
    REQUIRE_MESSAGE(o.ok(), "section ", i, ": ", (o.ok() ? "" : o.error().message));
    CHECK_FALSE(o->marker);
    CHECK(o->not_ours == "an ELF file whose sections lie past its end");
  }
}

TEST_CASE("a directory or FIFO is not read as btfd's file") {
  test::TempDir dir;
  auto d = open_file(dir.path(), O_RDONLY | O_DIRECTORY);
  REQUIRE(d.ok());
  auto o = read_ownership(d->get());
  REQUIRE(o.ok());
  CHECK(o->not_ours == "not a regular file");
}
