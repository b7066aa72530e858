// SPDX-License-Identifier: GPL-2.0-or-later
// Listing archive sources and reading one kernel from them: a real directory
// tree copied from the suite's btfhub fixtures (with debian/buster a real
// symlink, as in btfhub-archive), and the same tree as a file:// URL source.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "hub/archive_index.hpp"
#include "support/temp_dir.hpp"
#include "util/fd.hpp"

using namespace btfd;
using namespace btfd::hub;
using btfd::test::TempDir;
namespace fs = std::filesystem;

namespace {

const char* kU54 = "ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz";
const char* kU511 = "ubuntu/20.04/x86_64/5.11.0-1028-gcp.btf.tar.xz";
const char* kD10 = "debian/10/x86_64/4.19.0-17-amd64.btf.tar.xz";

std::string fixtures() { return btfd::test::source_root() + "/tests/data/btfhub"; }

// The fixture tree under dir/name, with debian/buster -> 10 a real symlink.
std::string make_tree(const TempDir& dir, const std::string& name = "hub", bool with_sums = true) {
  std::string root = dir / name;
  for (const char* rel : {kU54, kU511, kD10}) {
    fs::create_directories(fs::path(root + "/" + rel).parent_path());
    fs::copy_file(fixtures() + "/" + rel, root + "/" + rel);
  }
  fs::create_directory_symlink("10", root + "/debian/buster");
  if (with_sums) fs::copy_file(fixtures() + "/SHA256SUMS", root + "/SHA256SUMS");
  return root;
}

std::vector<std::string> paths(const std::vector<ArchiveEntry>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(e.rel_path);
  return out;
}

std::vector<uint8_t> fixture_btf() {
  const char* p = std::getenv("BTFD_FIXTURE_KERNEL_BTF");
  REQUIRE(p);
  auto b = read_file(p, 64 << 20);
  REQUIRE(b.ok());
  return *b;
}

const ArchiveEntry& find(const std::vector<ArchiveEntry>& v, const std::string& rel) {
  auto it = std::find_if(v.begin(), v.end(), [&](const ArchiveEntry& e) { return e.rel_path == rel; });
  REQUIRE(it != v.end());
  return *it;
}

}  // namespace

TEST_CASE("archive index: a directory lists each kernel once, with its fields, size and SHA256SUMS digest") {
  TempDir dir;
  std::string root = make_tree(dir);
  auto all = list_archive(root, {});
  REQUIRE(all.ok());
  CHECK(paths(*all) == std::vector<std::string>{kD10, kU511, kU54});  // buster is 10: listed once, as 10
  const ArchiveEntry& u = find(*all, kU54);
  CHECK(u.distro == "ubuntu");
  CHECK(u.version == "20.04");
  CHECK(u.arch == "x86_64");
  CHECK(u.release == "5.4.0-26-generic");
  CHECK(u.sha256 == "f5435aba2a2f85c289dec4c52f7f3f01f7139f3143561e9c1b02ced174514b9d");
  CHECK(u.size == fs::file_size(root + "/" + kU54));

  auto aliases = list_aliases(root);
  REQUIRE(aliases.ok());
  REQUIRE(aliases->size() == 1);
  CHECK((*aliases)[0].link == "debian/buster");
  CHECK((*aliases)[0].target == "debian/10");

  // The same through a file:// path with a trailing slash.
  auto again = list_archive(root + "/", {});
  REQUIRE(again.ok());
  CHECK(paths(*again) == paths(*all));
}

TEST_CASE("archive index: symlinked directories are followed once and never outside the root") {
  TempDir dir;
  std::string root = make_tree(dir);
  // A distro reachable only through a link into a hidden store inside the root: listed under the link.
  fs::create_directories(root + "/.store/31/x86_64");
  fs::copy_file(fixtures() + "/" + kD10, root + "/.store/31/x86_64/4.19.0-17-amd64.btf.tar.xz");
  fs::create_directory_symlink(".store", root + "/fedora");
  // Links out of the root, and loops back up, are not followed.
  std::string outside = make_tree(dir, "outside");
  fs::create_directory_symlink(outside + "/ubuntu", root + "/centos");
  fs::create_directory_symlink("..", root + "/ubuntu/up");
  fs::create_directory_symlink("../../..", root + "/ubuntu/20.04/x86_64/loop");
  // Hidden files (a sync's temp files) and files outside the layout are not kernels.
  btfd::test::write_text(root + "/ubuntu/20.04/x86_64/.5.4.0-9.btf.tar.xz.tmp", "partial");
  btfd::test::write_text(root + "/ubuntu/20.04/notes.btf.tar.xz", "wrong depth");
  btfd::test::write_text(root + "/ubuntu/20.04/x86_64/README", "not an archive");

  auto all = list_archive(root, {});
  REQUIRE(all.ok());
  CHECK(paths(*all) ==
        std::vector<std::string>{kD10, "fedora/31/x86_64/4.19.0-17-amd64.btf.tar.xz", kU511, kU54});
  auto aliases = list_aliases(root);
  REQUIRE(aliases.ok());
  std::vector<std::string> links;
  for (const auto& a : *aliases) links.push_back(a.link + "->" + a.target);
  CHECK(links == std::vector<std::string>{"debian/buster->debian/10", "fedora->.store", "ubuntu/up->"});
}

TEST_CASE("archive index: filters on distro, version, arch and a release glob") {
  TempDir dir;
  std::string root = make_tree(dir);
  struct Case {
    ArchiveFilter f;
    std::vector<std::string> want;
  };
  for (const Case& c : {Case{{"ubuntu", "", "", ""}, {kU511, kU54}},
                        Case{{"", "10", "", ""}, {kD10}},
                        Case{{"", "", "aarch64", ""}, {}},
                        Case{{"", "", "x86_64", "5.4*"}, {kU54}},
                        Case{{"", "", "", "*-g[cp]*"}, {kU511}},
                        Case{{"ubuntu", "20.04", "x86_64", "5.11.0-1028-gcp"}, {kU511}}}) {
    auto got = list_archive(root, c.f);
    REQUIRE(got.ok());
    CHECK(paths(*got) == c.want);
  }
}

TEST_CASE("archive index: read_archive_btf returns the validated BTF from a directory and from file://") {
  TempDir dir;
  std::string root = make_tree(dir);
  auto want = fixture_btf();
  for (const std::string& source : {root, "file://" + root}) {
    CAPTURE(source);
    auto all = list_archive(source, {"", "", "", "5.4.0-26-generic"});
    REQUIRE(all.ok());
    REQUIRE(all->size() == 1);
    CHECK(!(*all)[0].sha256.empty());
    auto btf = read_archive_btf(source, (*all)[0], 128 << 20);
    REQUIRE(btf.ok());
    CHECK(*btf == want);
    auto small = read_archive_btf(source, (*all)[0], 4096);
    REQUIRE_FALSE(small.ok());
    CHECK(small.error().code == Errc::too_large);
  }
}

TEST_CASE("archive index: a URL source is listed through its SHA256SUMS; without one it is a named error") {
  TempDir dir;
  std::string root = make_tree(dir);
  auto listed = list_archive("file://" + root, {});
  REQUIRE(listed.ok());
  // SHA256SUMS names debian/10 only; URL sources carry no sizes.
  CHECK(paths(*listed) == std::vector<std::string>{kD10, kU511, kU54});
  for (const auto& e : *listed) {
    CHECK(e.size == 0);
    CHECK(e.sha256.size() == 64);
  }
  // Hostile lines (traversal, wrong depth, bad digests) are not kernels.
  btfd::test::write_text(root + "/SHA256SUMS",
                         std::string(64, 'a') + "  ./../../etc/x86_64/passwd.btf.tar.xz\n" +
                             std::string(64, 'b') + "  ubuntu/20.04/x86_64/a/b.btf.tar.xz\n" +
                             std::string(64, 'z') + "  ubuntu/20.04/x86_64/c.btf.tar.xz\n" +
                             std::string(64, 'C') + " *ubuntu/20.04/x86_64/d.btf.tar.xz\r\n");
  auto hostile = list_archive("file://" + root, {});
  REQUIRE(hostile.ok());
  REQUIRE(paths(*hostile) == std::vector<std::string>{"ubuntu/20.04/x86_64/d.btf.tar.xz"});
  CHECK((*hostile)[0].sha256 == std::string(64, 'c'));

  std::string bare = make_tree(dir, "bare", false);
  auto none = list_archive("file://" + bare, {});
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == Errc::not_found);
  CHECK(none.error().message.find("file://" + bare + "/SHA256SUMS") != std::string::npos);
  // The same tree as a directory is walked: no digests.
  auto walked = list_archive(bare, {});
  REQUIRE(walked.ok());
  CHECK(walked->size() == 3);
  for (const auto& e : *walked) CHECK(e.sha256.empty());
}

TEST_CASE("archive index: a digest mismatch, a renamed archive and junk are refused, naming the entry") {
  TempDir dir;
  std::string root = make_tree(dir);
  auto all = list_archive(root, {});
  REQUIRE(all.ok());

  ArchiveEntry wrong = find(*all, kU54);
  wrong.sha256 = std::string(64, '0');
  auto r = read_archive_btf(root, wrong, 128 << 20);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::corrupt);
  CHECK(r.error().message.find(kU54) != std::string::npos);

  // A real archive under another release's name holds the wrong file: refused.
  fs::copy_file(root + "/" + kU54, root + "/ubuntu/20.04/x86_64/5.4.0-27-generic.btf.tar.xz");
  btfd::test::write_text(root + "/ubuntu/20.04/x86_64/5.4.0-28-generic.btf.tar.xz", "not xz at all");
  for (const char* rel : {"ubuntu/20.04/x86_64/5.4.0-27-generic.btf.tar.xz",
                          "ubuntu/20.04/x86_64/5.4.0-28-generic.btf.tar.xz"}) {
    CAPTURE(rel);
    auto listed = list_archive(root, {"", "", "", std::string(rel).substr(20, 16)});
    REQUIRE(listed.ok());
    REQUIRE(listed->size() == 1);
    auto bad = read_archive_btf(root, (*listed)[0], 128 << 20);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().code == Errc::corrupt);
    CHECK(bad.error().message.find(rel) != std::string::npos);
  }

  // An entry whose path leaves the layout is refused before anything is opened.
  ArchiveEntry escape = find(*all, kU54);
  escape.rel_path = "../outside/20.04/x86_64/5.4.0-26-generic.btf.tar.xz";
  auto esc = read_archive_btf(root, escape, 128 << 20);
  REQUIRE_FALSE(esc.ok());
  CHECK(esc.error().code == Errc::invalid_argument);
}

TEST_CASE("archive index: a directory entry is a private copy, opened beneath the root and never through a final link") {
  TempDir dir;
  std::string root = make_tree(dir, "hub", false);
  auto all = list_archive(root, {});
  REQUIRE(all.ok());
  ArchiveEntry e = find(*all, kU54);
  auto before = read_file(root + "/" + kU54, 64 << 20);
  REQUIRE(before.ok());
  auto copy = fetch_archive(root, e, kMaxArchiveBytes);
  REQUIRE(copy.ok());
  // The source rewritten in place after the open: the copy keeps what was read.
  btfd::test::write_text(root + "/" + kU54, "rewritten in place");
  auto got = pread_all(copy->get(), 64 << 20);
  REQUIRE(got.ok());
  CHECK(*got == *before);
  // A symlink where the archive should be (even to a file inside the root) is refused.
  fs::remove(root + "/" + kU54);
  fs::create_symlink("5.11.0-1028-gcp.btf.tar.xz", root + "/" + kU54);
  auto link = fetch_archive(root, e, kMaxArchiveBytes);
  REQUIRE_FALSE(link.ok());
  CHECK(link.error().message.find("symbolic link") != std::string::npos);
  // A directory on the way that leads outside the root is refused.
  btfd::test::TempDir outside;
  fs::create_directories(outside / "x86_64");
  fs::copy_file(fixtures() + "/" + kD10, outside / "x86_64/4.19.0-17-amd64.btf.tar.xz");
  fs::remove(root + "/debian/10/x86_64/4.19.0-17-amd64.btf.tar.xz");
  fs::remove(root + "/debian/10/x86_64");
  fs::create_directory_symlink(outside.path() + "/x86_64", root + "/debian/10/x86_64");
  ArchiveEntry d10 = find(*all, kD10);
  auto out = fetch_archive(root, d10, kMaxArchiveBytes);
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().code == Errc::permission);
}

TEST_CASE("archive index: SHA256SUMS text gives lowercase digests by layout path, skipping what names none") {
  const std::string a(64, 'a'), b = std::string(63, 'B') + "c", c(64, 'c');
  std::string text = a + "  ./" + kU54 + "\n" +                   // sha256sum's text form, "./" prefix
                     b + " *" + kD10 + "\r\n" +                   // binary form, CRLF
                     c + "  " + kU54 + "\n" +                     // a second line for a path: the first wins
                     std::string(64, 'g') + "  " + kU511 + "\n" +  // not hex
                     a + "  SHA256SUMS\n" +                       // not a layout path
                     a + "  ubuntu/20.04/x86_64/../../../etc/passwd.btf.tar.xz\n" +
                     a + "  " + "ubuntu/20.04/x86_64/.hidden.btf.tar.xz\n" +
                     a.substr(0, 63) + "  " + kU511 + "\n" +  // short digest
                     "garbage";
  auto sums = parse_archive_sums(text);
  CHECK(sums.size() == 2);
  CHECK(sums[kU54] == a);
  CHECK(sums[kD10] == std::string(63, 'b') + "c");
  CHECK(sums.count(kU511) == 0);
  CHECK(parse_archive_sums("").empty());
  // The last line needs no newline.
  CHECK(parse_archive_sums(c + "  " + kU511).at(kU511) == c);
}
