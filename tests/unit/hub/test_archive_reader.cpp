// SPDX-License-Identifier: GPL-2.0-or-later
// The archive reader fed as a download feeds it: in pieces, and cut short.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mman.h>

#include <algorithm>
#include <string>

#include "hub/archive_reader.hpp"
#include "support/temp_dir.hpp"
#include "util/fd.hpp"

using namespace btfd;
using namespace btfd::hub;

namespace {

std::vector<uint8_t> fixture_archive() {
  std::string path = btfd::test::source_root() + "/tests/data/btfhub/ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz";
  auto fd = open_file(path, O_RDONLY);
  REQUIRE(fd.ok());
  auto bytes = pread_all(fd->get(), 64 << 20);
  REQUIRE(bytes.ok());
  return std::move(*bytes);
}

// A source handing out `archive` at most `piece` bytes a call; with
// fail_after, an error once that many bytes were handed out.
ArchiveSource pieces(const std::vector<uint8_t>& archive, size_t piece, size_t* at, size_t fail_after = SIZE_MAX) {
  return [&archive, piece, at, fail_after](std::span<uint8_t> buf) -> Result<size_t> {
    if (*at >= fail_after) return make_error(Errc::unreachable, "the transfer was cut");
    size_t n = std::min({piece, buf.size(), archive.size() - *at, fail_after - *at});
    std::copy_n(archive.begin() + static_cast<long>(*at), n, buf.begin());
    *at += n;
    return n;
  };
}

std::vector<uint8_t> contents(int fd) {
  auto bytes = pread_all(fd, 128 << 20);
  REQUIRE(bytes.ok());
  return std::move(*bytes);
}

}  // namespace

TEST_CASE("an archive streamed in small pieces unpacks to what it unpacks to whole") {
  auto archive = fixture_archive();
  UniqueFd whole(::memfd_create("whole", MFD_CLOEXEC));
  auto want = extract_btf_from_memory(archive, "5.4.0-26-generic", whole.get(), ExtractLimits{});
  REQUIRE(want.ok());
  for (size_t piece : {size_t{1} << 20, size_t{4093}, size_t{1}}) {
    CAPTURE(piece);
    UniqueFd out(::memfd_create("out", MFD_CLOEXEC));
    size_t at = 0;
    auto got = extract_btf_streamed(pieces(archive, piece, &at), "5.4.0-26-generic", out.get(), ExtractLimits{});
    REQUIRE_MESSAGE(got.ok(), got.error().message);
    CHECK(*got == *want);
    CHECK(contents(out.get()) == contents(whole.get()));
  }
}

TEST_CASE("a source that fails mid-way gives its own error, not a bad archive's") {
  auto archive = fixture_archive();
  UniqueFd out(::memfd_create("out", MFD_CLOEXEC));
  size_t at = 0;
  auto got = extract_btf_streamed(pieces(archive, 65536, &at, archive.size() / 2), "5.4.0-26-generic", out.get(),
                                  ExtractLimits{});
  REQUIRE_FALSE(got.ok());
  CHECK(got.error().code == Errc::unreachable);
  CHECK(got.error().message == "the transfer was cut");
  // Ended early without an error: a truncated archive, named as such.
  std::vector<uint8_t> half(archive.begin(), archive.begin() + static_cast<long>(archive.size() / 2));
  UniqueFd out2(::memfd_create("out2", MFD_CLOEXEC));
  at = 0;
  auto cut = extract_btf_streamed(pieces(half, 65536, &at), "5.4.0-26-generic", out2.get(), ExtractLimits{});
  REQUIRE_FALSE(cut.ok());
  CHECK(cut.error().code == Errc::corrupt);
}

TEST_CASE("a streamed archive is refused as soon as it shows it is not one, without reading the rest") {
  std::vector<uint8_t> junk(8 << 20, 0x5a);
  UniqueFd out(::memfd_create("out", MFD_CLOEXEC));
  size_t at = 0;
  auto got = extract_btf_streamed(pieces(junk, 65536, &at), "5.4.0-26-generic", out.get(), ExtractLimits{});
  REQUIRE_FALSE(got.ok());
  CHECK(got.error().code == Errc::corrupt);
  CHECK(at < junk.size() / 4);
}
