// SPDX-License-Identifier: GPL-2.0-or-later
// btfctl mirror's destination tree: archives put in place only after their
// check, the same bytes never replaced, SHA256SUMS listing what is there (and
// aliases), one writer at a time, archives packed the same way every time.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cstring>
#include <filesystem>

#include "cli/mirror_tree.hpp"
#include "hub/archive_index.hpp"
#include "hub/archive_reader.hpp"
#include "support/temp_dir.hpp"
#include "util/sha256.hpp"

using namespace btfd;
using btfd::test::TempDir;
namespace fs = std::filesystem;
namespace mirror = btfctl::mirror;

namespace {
std::vector<uint8_t> fixture_btf() {
  const char* p = std::getenv("BTFD_FIXTURE_KERNEL_BTF");
  REQUIRE(p);
  auto b = read_file(p, 64 << 20);
  REQUIRE(b.ok());
  return *b;
}
Status check_ok(int) { return {}; }
}  // namespace

TEST_CASE("mirror tree: packed archives are deterministic and read back as the same BTF") {
  TempDir dir;
  auto btf = fixture_btf();
  std::string digests[2];
  for (int i = 0; i < 2; ++i) {
    auto fd = open_file(dir / ("a" + std::to_string(i)), O_RDWR | O_CREAT, 0644);
    REQUIRE(fd.ok());
    REQUIRE(mirror::pack_btf_archive(fd->get(), "5.4.0-26-generic", btf).ok());
    digests[i] = to_hex(*sha256_fd(fd->get()));
    auto e = hub::archive_entry_from_path("ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz");
    REQUIRE(e);
    auto back = hub::archive_btf(fd->get(), *e, hub::kMaxKernelBtfBytes);
    REQUIRE(back.ok());
    CHECK(*back == btf);
  }
  CHECK(digests[0] == digests[1]);
}

TEST_CASE("mirror tree: put, unchanged bytes, a failed check, SHA256SUMS with aliases, one writer") {
  TempDir dir;
  std::string dest = dir / "site";
  auto tree = mirror::Tree::open(dest);
  REQUIRE(tree.ok());
  auto busy = mirror::Tree::open(dest);
  REQUIRE_FALSE(busy.ok());
  CHECK(busy.error().code == Errc::busy);

  const std::string rel = "debian/10/x86_64/4.19.0-17-amd64.btf.tar.xz";
  auto text = [](std::string s) {
    return [s](int fd) { return write_all(fd, s); };
  };
  auto first = (*tree)->put(rel, text("one"), check_ok);
  REQUIRE(first.ok());
  CHECK(first->changed);
  CHECK(first->sha256 == sha256_hex(std::span(reinterpret_cast<const uint8_t*>("one"), 3)));
  auto same = (*tree)->put(rel, text("one"), check_ok);
  REQUIRE(same.ok());
  CHECK_FALSE(same->changed);
  // A file that fails its check never replaces the one in place, and leaves no temp file.
  auto refused = (*tree)->put(rel, text("two"), [](int) -> Status { return make_error(Errc::corrupt, "bad"); });
  REQUIRE_FALSE(refused.ok());
  CHECK(*read_text_file(dest + "/" + rel) == "one");
  CHECK_FALSE(fs::exists(dest + "/debian/10/x86_64/.4.19.0-17-amd64.btf.tar.xz.partial"));

  REQUIRE((*tree)->link("debian/buster", "debian/10").ok());
  CHECK(fs::read_symlink(dest + "/debian/buster") == "10");
  REQUIRE((*tree)->link("debian/stretch", "debian/9").ok());  // no target: no alias
  CHECK_FALSE(fs::exists(dest + "/debian/stretch"));
  REQUIRE((*tree)->save_sums().ok());
  std::string h = first->sha256;
  CHECK(*read_text_file(dest + "/SHA256SUMS") ==
        h + "  ./debian/10/x86_64/4.19.0-17-amd64.btf.tar.xz\n" + h + "  ./debian/buster/x86_64/4.19.0-17-amd64.btf.tar.xz\n");
  tree->reset();

  // A file renamed into place by a run killed before SHA256SUMS was saved is
  // hashed, not trusted blindly nor copied again; a listed file that is gone is dropped.
  fs::create_directories(dest + "/ubuntu/20.04/x86_64");
  btfd::test::write_text(dest + "/ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz", "killed run");
  fs::remove(dest + "/" + rel);
  auto again = mirror::Tree::open(dest);
  REQUIRE(again.ok());
  CHECK((*again)->digest_of("ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz") ==
        sha256_hex(std::span(reinterpret_cast<const uint8_t*>("killed run"), 10)));
  CHECK((*again)->digest_of(rel).empty());
  REQUIRE((*again)->save_sums().ok());
  auto sums = *read_text_file(dest + "/SHA256SUMS");
  CHECK(sums.find("4.19.0-17-amd64") == std::string::npos);
  CHECK(sums.find("./ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz\n") != std::string::npos);
}

TEST_CASE("mirror tree: a file whose digest is not the expected one is refused before it lands in the tree") {
  TempDir dir;
  std::string dest = dir / "site";
  auto tree = mirror::Tree::open(dest);
  REQUIRE(tree.ok());
  const std::string rel = "debian/10/x86_64/4.19.0-17-amd64.btf.tar.xz";
  auto bytes = [](std::string s) {
    return [s](int fd) { return write_all(fd, s); };
  };
  std::string want = sha256_hex(std::span(reinterpret_cast<const uint8_t*>("one"), 3));
  auto refused = (*tree)->put(rel, bytes("changed"), check_ok, want);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == Errc::corrupt);
  CHECK_FALSE(fs::exists(dest + "/" + rel));
  CHECK_FALSE(fs::exists(dest + "/debian/10/x86_64/.4.19.0-17-amd64.btf.tar.xz.partial"));
  REQUIRE((*tree)->save_sums().ok());
  CHECK(read_text_file(dest + "/SHA256SUMS")->find("4.19.0-17-amd64") == std::string::npos);
  auto ok = (*tree)->put(rel, bytes("one"), check_ok, want);
  REQUIRE(ok.ok());
  CHECK(ok->changed);
}

TEST_CASE("mirror tree: a file renamed in after SHA256SUMS was saved is hashed again, an older one is trusted") {
  TempDir dir;
  std::string dest = dir / "site";
  const std::string rel = "debian/10/x86_64/4.19.0-17-amd64.btf.tar.xz";
  auto bytes = [](std::string s) {
    return [s](int fd) { return write_all(fd, s); };
  };
  auto hex = [](const char* s) { return sha256_hex(std::span(reinterpret_cast<const uint8_t*>(s), std::strlen(s))); };
  {
    auto tree = mirror::Tree::open(dest);
    REQUIRE(tree.ok());
    REQUIRE((*tree)->put(rel, bytes("old"), check_ok).ok());
    REQUIRE((*tree)->save_sums().ok());
    // A new version renamed into place, then the run is killed before its next save.
    auto put = (*tree)->put(rel, bytes("new"), check_ok);
    REQUIRE(put.ok());
    CHECK(put->changed);
  }
  CHECK(read_text_file(dest + "/SHA256SUMS")->find(hex("old")) != std::string::npos);  // stale
  {
    auto tree = mirror::Tree::open(dest);
    REQUIRE(tree.ok());
    CHECK((*tree)->digest_of(rel) == hex("new"));  // not the recorded "old"
    // If the source went back to "old", the file is replaced (not called unchanged).
    auto back = (*tree)->put(rel, bytes("old"), check_ok);
    REQUIRE(back.ok());
    CHECK(back->changed);
    REQUIRE((*tree)->save_sums().ok());
  }
  CHECK(*read_text_file(dest + "/" + rel) == "old");
  CHECK(read_text_file(dest + "/SHA256SUMS")->find(hex("old")) != std::string::npos);
  // A file older than SHA256SUMS is taken at its recorded digest (not hashed: a
  // whole mirror is not read again at every run).
  struct timespec past[2] = {{1000000000, 0}, {1000000000, 0}};
  btfd::test::write_text(dest + "/" + rel, "edited, with an old time");
  REQUIRE(::utimensat(AT_FDCWD, (dest + "/" + rel).c_str(), past, 0) == 0);
  auto tree = mirror::Tree::open(dest);
  REQUIRE(tree.ok());
  CHECK((*tree)->digest_of(rel) == hex("old"));
}
