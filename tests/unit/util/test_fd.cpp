// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <algorithm>
#include <optional>

#include "support/temp_dir.hpp"
#include "util/fd.hpp"
#include "util/mapped_file.hpp"

using namespace btfd;

TEST_CASE("open_file sets O_CLOEXEC and reports the path") {
  test::TempDir dir;
  auto fd = open_file(dir / "f", O_WRONLY | O_CREAT, 0600);
  REQUIRE(fd.ok());
  CHECK((fcntl(fd->get(), F_GETFD) & FD_CLOEXEC) != 0);
  auto dup = fd->dup();
  REQUIRE(dup.ok());
  CHECK((fcntl(dup->get(), F_GETFD) & FD_CLOEXEC) != 0);
  auto missing = open_file(dir / "nope", O_RDONLY);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == Errc::not_found);
  CHECK(missing.error().message.find("nope") != std::string::npos);
}

TEST_CASE("write_file_atomic replaces content and leaves no temp files") {
  test::TempDir dir;
  std::string p = dir / "data";
  std::vector<uint8_t> a(100000, 'a'), b{'x', 'y'};
  for (Sync sync : {Sync::durable, Sync::atomic_only}) {
    CAPTURE(static_cast<int>(sync));
    REQUIRE(write_file_atomic(p, a, 0644, sync).ok());
    REQUIRE(write_file_atomic(p, b, 0600, sync).ok());
    auto back = read_file(p, 1 << 20);
    REQUIRE(back.ok());
    CHECK(*back == b);
    CHECK(std::filesystem::status(p).permissions() == std::filesystem::perms(0600));
    int entries = 0;
    for (auto& e : std::filesystem::directory_iterator(dir.path())) (void)e, ++entries;
    CHECK(entries == 1);
    REQUIRE(std::filesystem::remove(p));
  }
}

TEST_CASE("read_all enforces its limit") {
  test::TempDir dir;
  std::vector<uint8_t> big(5000, 1);
  REQUIRE(write_file_atomic(dir / "big", big).ok());
  auto r = read_file(dir / "big", 4999);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::too_large);
  auto ok = read_file(dir / "big", 5000);
  REQUIRE(ok.ok());
  CHECK(ok->size() == 5000);
}

TEST_CASE("pread_all reads from the start without moving the position") {
  test::TempDir dir;
  test::write_text(dir / "t", "hello");
  auto fd = open_file(dir / "t", O_RDONLY);
  REQUIRE(fd.ok());
  REQUIRE(lseek(fd->get(), 3, SEEK_SET) == 3);
  auto r = pread_all(fd->get(), 100);
  REQUIRE(r.ok());
  CHECK(std::string(r->begin(), r->end()) == "hello");
  CHECK(lseek(fd->get(), 0, SEEK_CUR) == 3);
}

TEST_CASE("mkdir_p creates nested directories and rejects files") {
  test::TempDir dir;
  REQUIRE(mkdir_p(dir / "a/b/c").ok());
  CHECK(std::filesystem::is_directory(dir / "a/b/c"));
  REQUIRE(mkdir_p(dir / "a/b/c").ok());
  test::write_text(dir / "file", "x");
  CHECK_FALSE(mkdir_p(dir / "file").ok());
}

namespace {
// write_file_atomic into DIR/x, as the caller or (when root, who ignores directory
// permissions) in a child that dropped to nobody; returns the error code, or
// nullopt when the write succeeded.
std::optional<Errc> write_as_unprivileged(const std::string& dir) {
  std::vector<uint8_t> data{1};
  if (geteuid() != 0) {
    auto st = write_file_atomic(dir + "/x", data);
    if (st.ok()) return std::nullopt;
    return st.error().code;
  }
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
      _exit(100);
    auto st = write_file_atomic(dir + "/x", data);
    _exit(st.ok() ? 101 : static_cast<int>(st.error().code));
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE_MESSAGE(WEXITSTATUS(status) != 100, "could not drop to uid 65534");
  if (WEXITSTATUS(status) == 101) return std::nullopt;
  return static_cast<Errc>(WEXITSTATUS(status));
}
}  // namespace

TEST_CASE("write_file_atomic into a read-only directory fails with a permission error and writes nothing") {
  test::TempDir dir;
  REQUIRE(chmod(dir.path().c_str(), 0755) == 0);  // the unprivileged child must reach ro/
  REQUIRE(mkdir_p(dir / "ro").ok());
  REQUIRE(chmod((dir / "ro").c_str(), 0555) == 0);
  auto code = write_as_unprivileged(dir / "ro");
  REQUIRE(code.has_value());
  CHECK(*code == Errc::permission);
  CHECK(std::filesystem::is_empty(dir / "ro"));
}

TEST_CASE("MappedFile maps a regular file, reads what cannot be mapped, and bounds both") {
  test::TempDir dir;
  std::vector<uint8_t> data(3 * 4096 + 5);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  REQUIRE(write_file_atomic(dir / "f", data).ok());
  auto f = MappedFile::open(dir / "f", data.size());
  REQUIRE(f.ok());
  CHECK(f->mapped());
  CHECK(std::equal(f->bytes().begin(), f->bytes().end(), data.begin(), data.end()));
  MappedFile moved = std::move(f).value();
  CHECK(moved.bytes().size() == data.size());
  auto big = MappedFile::open(dir / "f", data.size() - 1);
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().code == Errc::too_large);
  CHECK(big.error().message.find(dir / "f") != std::string::npos);
  // A pipe: read, within the same bound.
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  REQUIRE(::write(p[1], "hello", 5) == 5);
  ::close(p[1]);
  std::string via = "/proc/self/fd/" + std::to_string(p[0]);
  auto piped = MappedFile::open(via, 16);
  ::close(p[0]);
  REQUIRE(piped.ok());
  CHECK_FALSE(piped->mapped());
  CHECK(std::string(piped->bytes().begin(), piped->bytes().end()) == "hello");
  CHECK_FALSE(MappedFile::open(dir / "missing", 16).ok());
}
