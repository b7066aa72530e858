// SPDX-License-Identifier: GPL-2.0-or-later
// What a mirror's kernel BTF must be before it is stored: capped in size, with
// no padding, and passing the same validation the daemon's view runs.
#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "../btf/hostile_btf.hpp"
#include "hub/archive_reader.hpp"
#include "hub/btf_check.hpp"
#include "util/fd.hpp"

using namespace btfd;
using namespace btfd::hub;
using btfd::test::EveryKind;
using btfd::test::kNameOff;

namespace {

std::string message_of(const Status& st) { return st ? std::string() : st.error().message; }

// A .tar.xz holding one regular file.
std::vector<uint8_t> tar_xz(const std::string& name, const std::vector<uint8_t>& content) {
  std::vector<uint8_t> out(content.size() / 4 + (1 << 20));
  size_t used = 0;
  struct archive* a = archive_write_new();
  archive_write_add_filter_xz(a);
  archive_write_set_format_pax_restricted(a);
  REQUIRE(archive_write_open_memory(a, out.data(), out.size(), &used) == ARCHIVE_OK);
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
  REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
  REQUIRE(archive_write_data(a, content.data(), content.size()) == static_cast<la_ssize_t>(content.size()));
  archive_entry_free(e);
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  archive_write_free(a);
  out.resize(used);
  return out;
}

UniqueFd memfd() { return UniqueFd(::memfd_create("btfd-test", MFD_CLOEXEC)); }

}  // namespace

TEST_CASE("a kernel-like BTF passes; real kernels pass") {
  EveryKind k;
  CHECK_MESSAGE(check_kernel_btf(k.raw).ok(), message_of(check_kernel_btf(k.raw)));
  std::vector<std::string> paths;
  if (const char* fixture = std::getenv("BTFD_FIXTURE_KERNEL_BTF")) paths.emplace_back(fixture);
  if (::access("/sys/kernel/btf/vmlinux", R_OK) == 0) paths.emplace_back("/sys/kernel/btf/vmlinux");
  for (const auto& path : paths) {
    INFO(path);
    auto fd = open_file(path, O_RDONLY);
    REQUIRE(fd.ok());
    auto st = check_kernel_btf_fd(fd->get(), kMaxKernelBtfBytes);
    CHECK_MESSAGE(st.ok(), message_of(st));
  }
}

TEST_CASE("a mirror's BTF with a name past its strings is refused before it is stored, naming the type") {
  EveryKind k;
  auto st = check_kernel_btf(k.with_word(k.task, kNameOff, 0x00ffffff));
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == Errc::corrupt);
  CHECK(st.error().message.find("BTF type [" + std::to_string(k.task) + "]: name offset") != std::string::npos);
  auto ref = check_kernel_btf(k.with_word(k.s, btfd::test::kData + 4, 0x00ffffff));
  REQUIRE_FALSE(ref.ok());
  CHECK(ref.error().message.find("member 0 refers to type [16777215]") != std::string::npos);
}

TEST_CASE("padding after the string section is refused") {
  EveryKind k;
  auto padded = k.raw;
  padded.resize(padded.size() + (1 << 20), 0);
  auto st = check_kernel_btf(padded);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("1048576 bytes past its string section") != std::string::npos);
}

TEST_CASE("a BTF that is not a kernel's is refused") {
  EveryKind k;
  // Rename task_struct to "int": still valid BTF, no longer a kernel.
  auto l = btfd::btf::validate_btf(k.raw);
  REQUIRE(l.ok());
  const auto* ti = reinterpret_cast<const struct btf_type*>(l->types + l->offsets[static_cast<size_t>(k.i)]);
  auto st = check_kernel_btf(k.with_word(k.task, kNameOff, ti->name_off));
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("no struct task_struct") != std::string::npos);
}

TEST_CASE("kernel BTF is capped in size: the check, the file read and the unpacking") {
  // The largest btfhub kernel is ~44 MB raw: the cap leaves room, but not for 400 MiB.
  static_assert(kMaxKernelBtfBytes >= 64ull << 20 && kMaxKernelBtfBytes < 400ull << 20);
  CHECK(ExtractLimits{}.max_output_bytes == kMaxKernelBtfBytes);
  EveryKind k;
  auto st = check_kernel_btf(k.raw, k.raw.size() - 1);
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == Errc::too_large);
  CHECK(check_kernel_btf(k.raw, k.raw.size()).ok());
  UniqueFd fd = memfd();
  REQUIRE(fd);
  REQUIRE(write_all(fd.get(), k.raw).ok());
  auto big = check_kernel_btf_fd(fd.get(), k.raw.size() - 1);
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().code == Errc::too_large);
  CHECK(check_kernel_btf_fd(fd.get(), k.raw.size()).ok());

  // A valid BTF padded to 8 MiB packs into a few KiB; a 4 MiB cap stops the
  // unpacking itself, before anything is checked or stored.
  auto padded = k.raw;
  padded.resize(8 << 20, 0);
  auto archive = tar_xz("5.0.0-test.btf", padded);
  CHECK(archive.size() < 64 * 1024);
  ExtractLimits limits;
  limits.max_output_bytes = 4 << 20;
  UniqueFd out = memfd();
  REQUIRE(out);
  auto r = extract_btf_from_memory(archive, "5.0.0-test", out.get(), limits);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::too_large);
  CHECK(r.error().message.find("the cap on a kernel's BTF") != std::string::npos);
  // Under the cap it unpacks, and the check then refuses the padding.
  UniqueFd out2 = memfd();
  auto ok = extract_btf_from_memory(archive, "5.0.0-test", out2.get(), ExtractLimits{});
  REQUIRE(ok.ok());
  CHECK(*ok == padded.size());
  auto padded_st = check_kernel_btf_fd(out2.get(), kMaxKernelBtfBytes);
  REQUIRE_FALSE(padded_st.ok());
  CHECK(padded_st.error().message.find("past its string section") != std::string::npos);
}

TEST_CASE("the checked bytes' digest is that of the file, read in a copy or in place; nothing that fails has one") {
  const char* path = std::getenv("BTFD_FIXTURE_KERNEL_BTF");
  REQUIRE(path);
  auto fd = open_file(path, O_RDONLY);
  REQUIRE(fd.ok());
  auto want = sha256_fd(fd->get());
  REQUIRE(want.ok());
  for (Snapshot how : {Snapshot::copy, Snapshot::in_place}) {
    CAPTURE(static_cast<int>(how));
    auto d = check_kernel_btf_fd_digest(fd->get(), kMaxKernelBtfBytes, how);
    REQUIRE_MESSAGE(d.ok(), d.error().message);
    CHECK(*d == *want);
    // Too large for the cap: refused before anything is read.
    auto small = check_kernel_btf_fd_digest(fd->get(), 4096, how);
    REQUIRE_FALSE(small.ok());
    CHECK(small.error().code == Errc::too_large);
    UniqueFd mem(::memfd_create("junk", MFD_CLOEXEC));
    REQUIRE(mem);
    auto empty = check_kernel_btf_fd_digest(mem.get(), kMaxKernelBtfBytes, how);
    REQUIRE_FALSE(empty.ok());
    CHECK(empty.error().code == Errc::corrupt);
    REQUIRE(write_all(mem.get(), std::string(8192, 'x')).ok());
    auto junk = check_kernel_btf_fd_digest(mem.get(), kMaxKernelBtfBytes, how);
    REQUIRE_FALSE(junk.ok());
    CHECK(junk.error().code == Errc::corrupt);
    // A real kernel whose last string lost its terminator (one byte
    // changed): the check reads every byte in either mode.
    auto bytes = pread_all(fd->get(), kMaxKernelBtfBytes);
    REQUIRE(bytes.ok());
    bytes->back() = 'x';
    UniqueFd cut(::memfd_create("cut", MFD_CLOEXEC));
    REQUIRE(write_all(cut.get(), *bytes).ok());
    auto bad = check_kernel_btf_fd_digest(cut.get(), kMaxKernelBtfBytes, how);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().code == Errc::corrupt);
  }
}
