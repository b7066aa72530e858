// SPDX-License-Identifier: GPL-2.0-or-later
// The whole pipeline (parse_object, lookup_names, minimize, report_to_json) on
// hostile objects and kernels: errors, never crashes, and reports that dump as
// strict JSON whatever bytes the names hold.
#include <bpf/btf.h>
#include <doctest/doctest.h>
#include <linux/bpf.h>

#include <string>

#include "bpf_elf.hpp"
#include "btf_raw.hpp"
#include "btf/kernel_btf.hpp"
#include "btf/minimizer.hpp"
#include "btf/object_file.hpp"
#include "hostile_btf.hpp"

using namespace btfd;
using namespace btfd::btf;
using btfd::test::bpf_object;
using btfd::test::btf_ext_bytes;
using btfd::test::CoreReloRecord;

namespace {

using btfd::test::raw_of;

// A kernel and an object that both know `struct <name> { int x; int pid; }`
// (the object only pid), and one byte_off relocation on pid.
struct Pair {
  std::vector<uint8_t> kernel, object_btf, object;
  int local_struct = 0;
  uint32_t access_off = 0, sec_off = 0;

  explicit Pair(const std::string& name, const char* access = "0:0") {
    BtfPtr k(btf__new_empty());
    int ki = btf__add_int(k.get(), "int", 4, BTF_INT_SIGNED);
    btf__add_struct(k.get(), name.c_str(), 8);
    btf__add_field(k.get(), "x", ki, 0, 0);
    btf__add_field(k.get(), "pid", ki, 32, 0);
    kernel = raw_of(k.get());
    BtfPtr o(btf__new_empty());
    int oi = btf__add_int(o.get(), "int", 4, BTF_INT_SIGNED);
    local_struct = btf__add_struct(o.get(), name.c_str(), 4);
    btf__add_field(o.get(), "pid", oi, 0, 0);
    sec_off = static_cast<uint32_t>(btf__add_str(o.get(), "kprobe/x"));
    access_off = static_cast<uint32_t>(btf__add_str(o.get(), access));
    object_btf = raw_of(o.get());
    rebuild();
  }
  void rebuild() {
    auto ext = btf_ext_bytes(sec_off, {CoreReloRecord{0, static_cast<uint32_t>(local_struct), access_off, BPF_CORE_FIELD_BYTE_OFFSET}});
    object = bpf_object(object_btf, ext);
  }
};

}  // namespace

TEST_CASE("the in-memory object builder makes objects the pipeline reads") {
  Pair p("task_struct");
  auto k = KernelBtf::parse(p.kernel);
  REQUIRE(k.ok());
  ObjectInput in{"good.o", p.object};
  auto r = minimize(**k, std::span(&in, 1));
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
  REQUIRE(r->relocs.size() == 1);
  CHECK(r->relocs[0].matches == 1);
  CHECK(r->relocs[0].target_spec.find("task_struct.pid") != std::string::npos);
}

TEST_CASE("an object whose .BTF names a string past its string section is refused, with the type named") {
  Pair p("task_struct");
  // The local struct's member name: first member record, right after the 12-byte header.
  auto l = validate_btf(p.object_btf);
  REQUIRE(l.ok());
  struct btf_header h;
  std::memcpy(&h, p.object_btf.data(), sizeof(h));
  const uint32_t far = 0x7ffffff0;
  std::memcpy(p.object_btf.data() + h.hdr_len + l->offsets[static_cast<size_t>(p.local_struct)] + 12, &far, 4);
  p.rebuild();
  auto k = KernelBtf::parse(p.kernel);
  REQUIRE(k.ok());
  ObjectInput in{"hostile.o", p.object};
  auto r = minimize(**k, std::span(&in, 1));
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK(r.error().message.find("hostile.o") != std::string::npos);
  CHECK(r.error().message.find("BTF type [" + std::to_string(p.local_struct) + "]: member 0 name offset") !=
        std::string::npos);
  auto names = lookup_names(std::span(&in, 1));
  CHECK_FALSE(names.ok());
}

TEST_CASE("a kernel with a hostile name never reaches minimize(): parsing refuses it") {
  Pair p("task_struct");
  struct btf_header h;
  std::memcpy(&h, p.kernel.data(), sizeof(h));
  const uint32_t far = h.str_len + 100;
  std::memcpy(p.kernel.data() + h.hdr_len + 16, &far, 4);  // type [2]'s name (type [1] is a 16-byte INT)
  auto k = KernelBtf::parse(p.kernel);
  REQUIRE_FALSE(k.ok());
  CHECK(k.error().message.find("BTF type [2]: name offset") != std::string::npos);
}

TEST_CASE("a huge access-string index is an error through the whole pipeline, not an overflow") {
  for (const char* access : {"0:99999999999999999999", "99999999999999999999", "0:2147483648", "4294967296"}) {
    INFO(access);
    Pair p("task_struct", access);
    auto k = KernelBtf::parse(p.kernel);
    REQUIRE(k.ok());
    ObjectInput in{"big.o", p.object};
    auto r = minimize(**k, std::span(&in, 1));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("index out of range") != std::string::npos);
  }
}

TEST_CASE("names that are not UTF-8 give a report that dumps as strict JSON") {
  const std::string bad = "task_struc\xff";
  Pair p(bad);
  auto k = KernelBtf::parse(p.kernel);
  REQUIRE(k.ok());
  const std::string obj_name = "obj\xc3(.o";  // a truncated two-byte sequence
  ObjectInput in{obj_name, p.object};
  auto r = minimize(**k, std::span(&in, 1));
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
  REQUIRE(r->relocs.size() == 1);
  CHECK(r->relocs[0].matches == 1);
  auto j = report_to_json(r->relocs);
  std::string text;
  CHECK_NOTHROW(text = j.dump());  // nlohmann's default handler throws on invalid UTF-8
  CHECK(text.find("task_struc\xef\xbf\xbd") != std::string::npos);
  CHECK(text.find("obj\xef\xbf\xbd(.o") != std::string::npos);
  // The minimized BTF itself keeps the kernel's bytes: libbpf matches names bytewise.
  BtfPtr out(btf__new(r->btf.data(), static_cast<__u32>(r->btf.size())));
  REQUIRE(out);
  CHECK(btf__find_by_name_kind(out.get(), bad.c_str(), BTF_KIND_STRUCT) > 0);
}

TEST_CASE("error messages that quote the object's bytes are valid UTF-8 too") {
  // A bad access string in an object whose name is not UTF-8: the error quotes both.
  Pair p("task_struct", "0:\xff");
  auto k = KernelBtf::parse(p.kernel);
  REQUIRE(k.ok());
  ObjectInput in{"evil\xfe.o", p.object};
  auto r = minimize(**k, std::span(&in, 1));
  REQUIRE_FALSE(r.ok());
  const std::string& msg = r.error().message;
  INFO(msg);
  CHECK(msg.find("evil\xef\xbf\xbd.o") != std::string::npos);
  CHECK(msg.find("\"0:\xef\xbf\xbd\"") != std::string::npos);
  CHECK_NOTHROW((void)nlohmann::json(msg).dump());
  // And an object that is refused before its relocations are read.
  std::vector<uint8_t> notelf(100, 7);
  ObjectInput bad{"bad\xff.o", notelf};
  auto r2 = minimize(**k, std::span(&bad, 1));
  REQUIRE_FALSE(r2.ok());
  CHECK_NOTHROW((void)nlohmann::json(r2.error().message).dump());
  CHECK(r2.error().message.find("bad\xef\xbf\xbd.o") != std::string::npos);
}

TEST_CASE("a truncated object is named truncated, not an object without .BTF") {
  Pair p("task_struct");
  for (size_t cut : {size_t{8}, p.object.size() / 2}) {
    std::vector<uint8_t> part(p.object.begin(), p.object.end() - static_cast<std::ptrdiff_t>(cut));
    auto r = parse_object("cut.o", part);
    REQUIRE_FALSE(r.ok());
    INFO(r.error().message);
    CHECK(r.error().message.find("truncated") != std::string::npos);
    CHECK(r.error().message.find("no .BTF") == std::string::npos);
  }
}
