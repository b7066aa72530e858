// SPDX-License-Identifier: GPL-2.0-or-later
// Transparent files on disk: the path template, installing atomically, and the
// ownership rule (btfd replaces and removes only its own file).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "support/temp_dir.hpp"
#include "transparent/transparent_file.hpp"
#include "util/fd.hpp"
#include "util/sha256.hpp"

using namespace btfd;
using namespace btfd::transparent;

namespace {
std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }
}  // namespace

TEST_CASE("path templates: absolute, naming the release, nothing that could climb out") {
  CHECK(validate_path_template(kDefaultPathTemplate).ok());
  CHECK(validate_path_template("/usr/lib/debug/boot/vmlinux-%v").ok());
  CHECK(validate_path_template("/srv/100%%/vmlinux-%v").ok());
  struct Bad {
    const char* tmpl;
    const char* why;
  };
  for (Bad b : {Bad{"lib/modules/%v/vmlinux", "absolute"}, Bad{"/lib/modules/vmlinux", "%v"},
                Bad{"/lib/modules/%r/vmlinux-%v", "specifier"}, Bad{"/lib/modules/%v/../../etc/x%v", "\"..\""},
                Bad{"/lib//modules/%v", "empty"}, Bad{"/lib/modules/%v/", "empty"}, Bad{"/x/%v\n", "control"},
                Bad{"/x/%v%", "specifier"}, Bad{"", "absolute"}}) {
    CAPTURE(b.tmpl);
    auto st = validate_path_template(b.tmpl);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().message.find(b.why) != std::string::npos);
  }
  CHECK(expand_path_template(kDefaultPathTemplate, "6.1.0-18-amd64") == "/lib/modules/6.1.0-18-amd64/vmlinux-6.1.0-18-amd64");
  CHECK(expand_path_template("/a/100%%/%v", "r", "/host/") == "/host/a/100%/r");
}

TEST_CASE("install writes btfd's image, replaces its own, removes its own") {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "lib/modules/6.1.0-1");
  std::string path = expand_path_template(kDefaultPathTemplate, "6.1.0-1", dir.path());
  auto before = inspect_file(path);
  REQUIRE(before.ok());
  CHECK(before->state == FileState::absent);

  auto one = install_file(path, bytes("first BTF bytes"), "6.1.0-1");
  REQUIRE_MESSAGE(one.ok(), one.error().message);
  auto seen = inspect_file(path);
  REQUIRE(seen.ok());
  CHECK(seen->state == FileState::ours);
  CHECK(seen->release == "6.1.0-1");
  CHECK(seen->btf_sha256 == sha256_hex(bytes("first BTF bytes")));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0644);

  auto two = install_file(path, bytes("second"), "6.1.0-1");
  REQUIRE(two.ok());
  CHECK(inspect_file(path)->btf_sha256 == sha256_hex(bytes("second")));
  // Nothing left behind by the atomic writes: just the file.
  size_t entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir / "lib/modules/6.1.0-1")) ++entries;
  CHECK(entries == 1);

  auto removed = remove_file(path);
  REQUIRE(removed.ok());
  CHECK(*removed);
  CHECK_FALSE(path_exists(path));
  auto again = remove_file(path);
  REQUIRE(again.ok());
  CHECK_FALSE(*again);
}

TEST_CASE("a foreign file at the path is left alone, with a message saying so") {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "lib/modules/6.1.0-2");
  std::string path = expand_path_template(kDefaultPathTemplate, "6.1.0-2", dir.path());
  test::write_text(path, "a real vmlinux, say\n");
  auto info = inspect_file(path);
  REQUIRE(info.ok());
  CHECK(info->state == FileState::foreign);
  CHECK(std::string(file_state_name(info->state)) == "foreign");

  auto inst = install_file(path, bytes("btf"), "6.1.0-2");
  REQUIRE_FALSE(inst.ok());
  CHECK(inst.error().code == Errc::permission);
  CHECK(inst.error().message.find("is not btfd's file") != std::string::npos);
  CHECK(inst.error().message.find("left alone") != std::string::npos);
  auto rm = remove_file(path);
  REQUIRE_FALSE(rm.ok());
  CHECK(rm.error().code == Errc::permission);
  CHECK(*read_text_file(path) == "a real vmlinux, say\n");

  // A symbolic link there (even to btfd's own file) is not followed or replaced.
  std::filesystem::create_directories(dir / "x");
  REQUIRE(install_file(dir / "x/v", bytes("b"), "6.1.0-2").ok());
  std::filesystem::remove(path);
  std::filesystem::create_symlink(dir / "x/v", path);
  auto link = inspect_file(path);
  REQUIRE(link.ok());
  CHECK(link->state == FileState::foreign);
  CHECK(link->not_ours == "a symbolic link");
  CHECK_FALSE(remove_file(path).ok());
  CHECK(std::filesystem::is_symlink(path));
}

TEST_CASE("install needs the kernel's directory and a valid release") {
  test::TempDir dir;
  std::string path = expand_path_template(kDefaultPathTemplate, "6.1.0-3", dir.path());
  auto st = install_file(path, bytes("b"), "6.1.0-3");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == Errc::not_found);
  CHECK(st.error().message.find("is kernel 6.1.0-3 installed?") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "lib/modules/6.1.0-3"));
  CHECK_FALSE(install_file(dir / "v", bytes("b"), "../evil").ok());
}
