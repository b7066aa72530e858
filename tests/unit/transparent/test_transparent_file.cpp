// SPDX-License-Identifier: GPL-2.0-or-later
// Transparent files on disk: the path template, installing atomically, and the
// ownership rule (btfd replaces and removes only its own file).
#include <bpf/btf.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "small_btf.hpp"
#include "support/temp_dir.hpp"
#include "transparent/transparent_file.hpp"
#include "util/fd.hpp"
#include "util/sha256.hpp"

using namespace btfd;
using namespace btfd::transparent;

namespace {
std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }
using test::small_btf;
// Two different valid BTFs, as btfd would send them (built on first use:
// small_btf's REQUIREs need a running test).
const std::vector<uint8_t>& first_btf() {
  static const auto b = small_btf("task_struct");
  return b;
}
const std::vector<uint8_t>& second_btf() {
  static const auto b = small_btf("mm_struct");
  return b;
}

size_t entries_in(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}
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

  auto one = install_file(path, first_btf(), "6.1.0-1");
  REQUIRE_MESSAGE(one.ok(), one.error().message);
  auto seen = inspect_file(path);
  REQUIRE(seen.ok());
  CHECK(seen->state == FileState::ours);
  CHECK(seen->release == "6.1.0-1");
  CHECK(seen->btf_sha256 == sha256_hex(first_btf()));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0644);

  auto two = install_file(path, second_btf(), "6.1.0-1");
  REQUIRE(two.ok());
  CHECK(inspect_file(path)->btf_sha256 == sha256_hex(second_btf()));
  // Nothing left behind by the atomic writes: just the file.
  CHECK(entries_in(dir / "lib/modules/6.1.0-1") == 1);

  auto removed = remove_file(path);
  REQUIRE(removed.ok());
  CHECK(removed->file);
  CHECK(removed->temps == 0);
  CHECK_FALSE(path_exists(path));
  auto again = remove_file(path);
  REQUIRE(again.ok());
  CHECK_FALSE(again->file);
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

  auto inst = install_file(path, first_btf(), "6.1.0-2");
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
  REQUIRE(install_file(dir / "x/v", first_btf(), "6.1.0-2").ok());
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
  auto st = install_file(path, first_btf(), "6.1.0-3");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == Errc::not_found);
  CHECK(st.error().message.find("is kernel 6.1.0-3 installed?") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "lib/modules/6.1.0-3"));
  CHECK_FALSE(install_file(dir / "v", first_btf(), "../evil").ok());
}

TEST_CASE("install refuses BTF that is not valid, naming it, and writes nothing") {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "lib/modules/6.1.0-4");
  std::string path = expand_path_template(kDefaultPathTemplate, "6.1.0-4", dir.path());
  // Damaged BTF: a member referring to a type past the last one.
  auto bad_ref = first_btf();
  struct btf_header hdr;
  std::memcpy(&hdr, bad_ref.data(), sizeof(hdr));
  // Type [2] (the struct) follows int's 16-byte record; its first member's type
  // is at 12 (header) + 4 (name) within the member.
  size_t member_type = hdr.hdr_len + hdr.type_off + 16 + 12 + 4;
  uint32_t past = 99;
  std::memcpy(bad_ref.data() + member_type, &past, sizeof(past));
  auto truncated = first_btf();
  truncated.pop_back();
  struct btf* empty = btf__new_empty();
  REQUIRE(empty);
  uint32_t empty_size = 0;
  const auto* empty_raw = static_cast<const uint8_t*>(btf__raw_data(empty, &empty_size));
  std::vector<uint8_t> no_types(empty_raw, empty_raw + empty_size);
  btf__free(empty);
  // Valid BTF one byte into a buffer (not 4-byte aligned): checked all the same.
  std::vector<uint8_t> shifted(first_btf().size() + 1);
  std::memcpy(shifted.data() + 1, first_btf().data(), first_btf().size());

  struct Bad {
    const char* what;
    std::vector<uint8_t> btf;
    const char* why;
  };
  for (const Bad& b : {Bad{"not BTF", bytes(std::string(64, 'x')), "bad magic"}, Bad{"empty", {}, "shorter than its header"},
                       Bad{"a reference past the last type", bad_ref, "refers to type [99]"},
                       Bad{"truncated", truncated, "lie outside the data"},
                       Bad{"no types", no_types, "it has no types"}}) {
    CAPTURE(b.what);
    auto st = install_file(path, b.btf, "6.1.0-4");
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == Errc::corrupt);
    CHECK(st.error().message.find("the BTF btfd sent for kernel 6.1.0-4 is not valid BTF") != std::string::npos);
    CHECK(st.error().message.find(b.why) != std::string::npos);
    CHECK(st.error().message.find("nothing written") != std::string::npos);
    CHECK(entries_in(dir / "lib/modules/6.1.0-4") == 0);
  }
  auto ok = install_file(path, std::span(shifted).subspan(1), "6.1.0-4");
  REQUIRE_MESSAGE(ok.ok(), ok.error().message);
  CHECK(inspect_file(path)->btf_sha256 == sha256_hex(first_btf()));
  // A refused install leaves btfd's current file as it was.
  REQUIRE_FALSE(install_file(path, truncated, "6.1.0-4").ok());
  CHECK(inspect_file(path)->btf_sha256 == sha256_hex(first_btf()));
  CHECK(entries_in(dir / "lib/modules/6.1.0-4") == 1);
}

TEST_CASE("a killed install's temp file is removed by the next install or remove; nothing else is") {
  test::TempDir dir;
  const std::string mods = dir / "lib/modules/6.1.0-5";
  std::filesystem::create_directories(mods);
  std::string path = expand_path_template(kDefaultPathTemplate, "6.1.0-5", dir.path());
  const std::string base = "vmlinux-6.1.0-5";
  // What write_file_atomic leaves when killed between create and rename.
  const std::vector<std::string> leftovers = {base + ".tmp.1", base + ".tmp.3735928559", base + ".tmp.4294967295"};
  for (const auto& name : leftovers) test::write_text(mods + "/" + name, std::string(4096, 'x'));
  // Names close to it that write_file_atomic never makes, and non-files with its names.
  const std::vector<std::string> similar = {base + ".tmp.",    base + ".tmp.12a",  base + ".tmp.12345678901",
                                            base + ".tmp.-1",  base + ".tmpx.1",   base + ".tmp.1.bak",
                                            "x" + base + ".tmp.1", "vmlinux-6.1.0-50.tmp.1", base + ".TMP.1"};
  for (const auto& name : similar) test::write_text(mods + "/" + name, "someone else's\n");
  test::write_text(dir / "target", "a link's target\n");
  std::filesystem::create_symlink(dir / "target", mods + "/" + base + ".tmp.77");
  std::filesystem::create_directory(mods + "/" + base + ".tmp.78");
  auto kept = [&] {
    for (const auto& name : similar) {
      CAPTURE(name);
      CHECK(*read_text_file(mods + "/" + name) == "someone else's\n");
    }
    CHECK(std::filesystem::is_symlink(mods + "/" + base + ".tmp.77"));
    CHECK(*read_text_file(dir / "target") == "a link's target\n");
    CHECK(std::filesystem::is_directory(mods + "/" + base + ".tmp.78"));
  };
  auto gone = [&] {
    for (const auto& name : leftovers) {
      CAPTURE(name);
      CHECK_FALSE(std::filesystem::exists(mods + "/" + name));
    }
  };

  // Install: the leftovers go, the file is written, everything else stays.
  auto inst = install_file(path, first_btf(), "6.1.0-5");
  REQUIRE_MESSAGE(inst.ok(), inst.error().message);
  gone();
  kept();
  CHECK(entries_in(mods) == 1 + similar.size() + 2);

  // Remove: a new leftover goes with btfd's file.
  test::write_text(mods + "/" + leftovers[1], "cut short");
  auto rm = remove_file(path);
  REQUIRE_MESSAGE(rm.ok(), rm.error().message);
  CHECK(rm->file);
  CHECK(rm->temps == 1);
  gone();
  kept();
  CHECK(entries_in(mods) == similar.size() + 2);

  // Remove with no file there (the first install was the one killed): the
  // leftover goes all the same, and it is counted.
  test::write_text(mods + "/" + leftovers[0], "cut short");
  rm = remove_file(path);
  REQUIRE(rm.ok());
  CHECK_FALSE(rm->file);
  CHECK(rm->temps == 1);
  gone();
  kept();

  // remove_leftover_temps alone; a missing directory has none.
  test::write_text(mods + "/" + leftovers[2], "cut short");
  auto n = remove_leftover_temps(path);
  REQUIRE(n.ok());
  CHECK(*n == 1);
  gone();
  kept();
  auto none = remove_leftover_temps(dir / "lib/modules/6.1.0-6/vmlinux-6.1.0-6");
  REQUIRE(none.ok());
  CHECK(*none == 0);

  // A foreign file at the path: left alone, but btfd's leftover beside it goes.
  test::write_text(path, "a real vmlinux\n");
  test::write_text(mods + "/" + leftovers[0], "cut short");
  REQUIRE_FALSE(install_file(path, first_btf(), "6.1.0-5").ok());
  gone();
  CHECK(*read_text_file(path) == "a real vmlinux\n");
}

TEST_CASE("install and remove take turns on a directory: a temp file being written is not removed") {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "m");
  const std::string temp = dir / "m/vmlinux-r.tmp.42";
  test::write_text(temp, "being written");
  // Another btfctl in the middle of its install holds the directory's lock.
  auto other = open_file(dir / "m", O_RDONLY | O_DIRECTORY);
  REQUIRE(other.ok());
  REQUIRE(::flock(other->get(), LOCK_EX) == 0);
  std::atomic<bool> done{false};
  Result<size_t> result = size_t{0};
  std::thread cleaner([&] {
    result = remove_leftover_temps(dir / "m/vmlinux-r");
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK_FALSE(done.load());
  CHECK(std::filesystem::exists(temp));
  // Its install ends (here: killed, lock released with the descriptor).
  other->reset();
  cleaner.join();
  REQUIRE(result.ok());
  CHECK(*result == 1);
  CHECK_FALSE(std::filesystem::exists(temp));
}
