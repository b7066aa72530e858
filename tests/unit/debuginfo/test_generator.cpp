// SPDX-License-Identifier: GPL-2.0-or-later
// The generator: installed debug info to checked BTF, the build-id held to
// the kernel's, split BTF for a module, one generation at a time, failures
// remembered.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "debuginfo/build_id.hpp"
#include "debuginfo/generator.hpp"
#include "debuginfo/split_btf.hpp"
#include "btf/btf_validate.hpp"
#include "support/temp_dir.hpp"
#include "test_kernel.hpp"
#include "util/fd.hpp"

using namespace btfd;
using namespace btfd::debuginfo;

namespace {
constexpr const char* kRelease = "6.1.0-77-test";

struct Host {
  test::TempDir root, tmp;
  std::string vmlinux;
  Host() {
    std::string dir = root / "usr/lib/debug/boot";
    REQUIRE(mkdir_p(dir));
    vmlinux = dir + "/vmlinux-" + kRelease;
    test::build_test_kernel(vmlinux);
  }
  GeneratorOptions options(std::string pahole = "/usr/bin/pahole") const {
    GeneratorOptions o;
    o.host_root = root.path();
    o.pahole.path = std::move(pahole);
    o.pahole.tmp_dir = tmp.path();
    o.pahole.wall = std::chrono::seconds(60);
    o.queue_wait = std::chrono::milliseconds(200);
    return o;
  }
};

std::string text(const std::string& path) {
  auto t = read_text_file(path);
  return t ? *t : "";
}
}  // namespace

TEST_CASE("installed debug info becomes checked kernel BTF, its origin naming file, build-id and pahole") {
  Host h;
  Generator g(h.options());
  auto id = elf_build_id(h.vmlinux);
  REQUIRE(id);
  REQUIRE(*id);
  auto r = g.kernel_from_installed(kRelease, **id);
  REQUIRE_MESSAGE(r, r.error().message);
  CHECK(btfd::btf::validate_btf(r->btf));
  CHECK(r->from == std::string("/usr/lib/debug/boot/vmlinux-") + kRelease);
  CHECK(r->build_id == **id);
  CHECK(r->origin().find("pahole v1.") == 0);
  CHECK(r->origin().find(**id) != std::string::npos);
  auto s = g.stats();
  CHECK(s.generated == 1);
  CHECK(s.running.empty());
  CHECK(s.last.find(kRelease) != std::string::npos);
}

TEST_CASE("no debug file: not_found naming every place looked in") {
  Host h;
  Generator g(h.options());
  auto r = g.kernel_from_installed("6.1.0-1-other", std::nullopt);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::not_found);
  CHECK(r.error().message.find("no debug info for 6.1.0-1-other") != std::string::npos);
  CHECK(r.error().message.find("/usr/lib/debug/boot/vmlinux-6.1.0-1-other") != std::string::npos);
  CHECK(r.error().message.find("/usr/lib/debug/lib/modules/6.1.0-1-other/vmlinux") != std::string::npos);
  auto off = h.options();
  off.enabled = false;
  Generator disabled(off);
  auto d = disabled.kernel_from_installed(kRelease, std::nullopt);
  REQUIRE_FALSE(d);
  CHECK(d.error().message.find("Enable=no") != std::string::npos);
}

TEST_CASE("a debug file with another build-id than the running kernel's is refused before pahole runs") {
  Host h;
  std::string marker = h.tmp / "ran";
  Generator g(h.options(test::fake_pahole(h.tmp, "p", "touch " + test::shell_quote(marker) + "; exit 1")));
  auto r = g.kernel_from_installed(kRelease, std::string("00112233"));
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("the running kernel 00112233") != std::string::npos);
  CHECK_FALSE(path_exists(marker));
}

TEST_CASE("BTF that is not a kernel's is refused (a pahole writing something else)") {
  Host h;
  // A "pahole" that writes the test module's BTF: valid BTF, but no task_struct.
  std::string other = h.tmp / "other.btf";
  test::build_test_module(h.tmp / "m.o");
  REQUIRE(std::system(("sed 's/task_struct/tusk_struct/g' " + test::shell_quote(h.vmlinux) + " > " +
                       test::shell_quote(h.tmp / "renamed") + " && pahole --btf_encode_detached=" +
                       test::shell_quote(other) + " " + test::shell_quote(h.tmp / "renamed")).c_str()) == 0);
  Generator g(h.options(test::fake_pahole(h.tmp, "p", "cp " + test::shell_quote(other) + " \"${1#--btf_encode_detached=}\"")));
  auto r = g.kernel_from_installed(kRelease, std::nullopt);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("task_struct") != std::string::npos);
  CHECK(g.stats().failures == 1);
}

TEST_CASE("a failed generation is remembered: asking again does not run pahole again") {
  Host h;
  std::string count = h.tmp / "count";
  Generator g(h.options(test::fake_pahole(h.tmp, "p", "echo x >> " + test::shell_quote(count) + "; echo broken >&2; exit 2")));
  auto a = g.kernel_from_installed(kRelease, std::nullopt);
  REQUIRE_FALSE(a);
  auto b = g.kernel_from_installed(kRelease, std::nullopt);
  REQUIRE_FALSE(b);
  CHECK(b.error().message.find("remembered") != std::string::npos);
  CHECK(b.error().message.find("broken") != std::string::npos);
  CHECK(text(count) == "x\n");
}

TEST_CASE("one generation at a time: a second call waits, then is busy naming the running one") {
  Host h;
  Generator g(h.options(test::fake_pahole(h.tmp, "p", "sleep 3; exit 1")));
  std::thread first([&] { (void)g.kernel_from_installed(kRelease, std::nullopt); });
  // Until the first holds the lock.
  for (int i = 0; i < 200 && g.stats().running.empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(g.stats().running.find(kRelease) != std::string::npos);
  auto second = g.kernel_from_file(h.vmlinux, "http://debuginfod.test/x", *elf_build_id(h.vmlinux).value());
  first.join();
  REQUIRE_FALSE(second);
  CHECK(second.error().code == Errc::busy);
  CHECK(second.error().message.find("another BTF generation is running") != std::string::npos);
  CHECK(second.error().message.find(kRelease) != std::string::npos);
}

TEST_CASE("a downloaded debug file must carry the build-id it was asked for") {
  Host h;
  Generator g(h.options());
  auto r = g.kernel_from_file(h.vmlinux, "http://debuginfod.test/buildid/aa/debuginfo", "aabb");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("not the aabb it was asked for") != std::string::npos);
  auto id = elf_build_id(h.vmlinux);
  auto ok = g.kernel_from_file(h.vmlinux, "http://debuginfod.test/x", **id);
  REQUIRE_MESSAGE(ok, ok.error().message);
  CHECK(ok->from == "http://debuginfod.test/x");
}

TEST_CASE("a module's split BTF over the kernel's: generated, joined and validated") {
  Host h;
  std::string dir = h.root / (std::string("usr/lib/debug/lib/modules/") + kRelease + "/kernel/drivers/mod");
  REQUIRE(mkdir_p(dir));
  test::build_test_module(dir + "/mod-conn.ko");
  Generator g(h.options());
  auto k = g.kernel_from_installed(kRelease, std::nullopt);
  REQUIRE(k);
  REQUIRE(write_file_atomic(h.tmp / "base.btf", k->btf));
  auto m = g.module_from_installed(kRelease, "mod_conn", h.tmp / "base.btf", k->btf);
  REQUIRE_MESSAGE(m, m.error().message);
  CHECK(m->from.find("mod-conn.ko") != std::string::npos);
  CHECK(check_split_btf(k->btf, m->btf, 1 << 20));
  auto joined = join_split(k->btf, m->btf);
  REQUIRE(joined);
  auto l = btfd::btf::validate_btf(*joined);
  REQUIRE(l);
  bool found = false;
  for (size_t id = 1; id < l->offsets.size(); ++id) {
    auto* t = reinterpret_cast<const struct btf_type*>(l->types + l->offsets[id]);
    if (std::string_view(l->strs + t->name_off) == "mod_conn") found = true;
  }
  CHECK(found);
  auto none = g.module_from_installed(kRelease, "nope", h.tmp / "base.btf", k->btf);
  REQUIRE_FALSE(none);
  CHECK(none.error().message.find("no debug info for module nope") != std::string::npos);
}

TEST_CASE("split BTF that refers past its base's and its own types is refused") {
  Host h;
  Generator g(h.options());
  auto k = g.kernel_from_installed(kRelease, std::nullopt);
  REQUIRE(k);
  // One PTR to type 100000: past everything.
  struct {
    btf_header hdr;
    btf_type t;
    char strs[1];
    char pad[3];
  } bad{};
  bad.hdr = {BTF_MAGIC, BTF_VERSION, 0, sizeof(btf_header), 0, sizeof(btf_type), sizeof(btf_type), 1};
  bad.t.info = BTF_KIND_PTR << 24;
  bad.t.type = 100000;
  std::vector<uint8_t> split(reinterpret_cast<uint8_t*>(&bad), reinterpret_cast<uint8_t*>(&bad) + sizeof(btf_header) + sizeof(btf_type) + 1);
  auto st = check_split_btf(k->btf, split, 1 << 20);
  REQUIRE_FALSE(st);
  CHECK(st.error().message.find("100000") != std::string::npos);
  std::vector<uint8_t> garbage(40, 0x55);
  CHECK_FALSE(check_split_btf(k->btf, garbage, 1 << 20));
}
