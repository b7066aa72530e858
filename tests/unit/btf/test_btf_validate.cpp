// SPDX-License-Identifier: GPL-2.0-or-later
// validate_btf, the one check every untrusted BTF passes (through BtfView, and
// so KernelBtf and parse_object): one damaged field at a time, each refused with
// a message naming the problem and the type; loops refused as the kernel
// refuses them; real kernels accepted.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "btf/btf_validate.hpp"
#include "btf/btf_view.hpp"
#include "btf/kernel_btf.hpp"
#include "btf/object_file.hpp"
#include "hostile_btf.hpp"
#include "util/fd.hpp"

using namespace btfd;
using namespace btfd::btf;
using btfd::test::EveryKind;
using btfd::test::kData;
using btfd::test::kInfo;
using btfd::test::kNameOff;
using btfd::test::kType;

namespace {

// The view (and so every reader) refuses raw, and says both things.
void check_refused(const std::vector<uint8_t>& raw, const std::string& problem, int type_id) {
  auto v = BtfView::parse(raw);
  REQUIRE_FALSE(v.ok());
  const std::string& msg = v.error().message;
  INFO("message: ", msg);
  CHECK(v.error().code == Errc::corrupt);
  CHECK(msg.find(problem) != std::string::npos);
  if (type_id >= 0) CHECK(msg.find("BTF type [" + std::to_string(type_id) + "]") != std::string::npos);
  auto k = KernelBtf::parse(raw);
  REQUIRE_FALSE(k.ok());
  CHECK(k.error().message.find(problem) != std::string::npos);
}

constexpr uint32_t kFarAway = 0x00ffffff;

}  // namespace

TEST_CASE("the undamaged every-kind BTF is accepted, by us and by libbpf") {
  EveryKind k;
  auto v = BtfView::parse(k.raw);
  REQUIRE(v.ok());
  CHECK(v->type_cnt() == static_cast<uint32_t>(k.last) + 1);
  BtfPtr lib(btf__new(k.raw.data(), static_cast<__u32>(k.raw.size())));
  CHECK(lib != nullptr);
}

TEST_CASE("a name offset past the string section is refused, for every kind of name") {
  EveryKind k;
  check_refused(k.with_word(k.s, kNameOff, kFarAway), "name offset 16777215 is past the string section", k.s);
  check_refused(k.with_word(k.i, kNameOff, kFarAway), "name offset", k.i);
  check_refused(k.with_word(k.s, kData + 12 + 0, kFarAway), "member 1 name offset", k.s);
  check_refused(k.with_word(k.e, kData + 0, kFarAway), "enumerator 0 name offset", k.e);
  check_refused(k.with_word(k.e64, kData + 0, kFarAway), "enumerator 0 name offset", k.e64);
  check_refused(k.with_word(k.proto, kData + 0, kFarAway), "parameter 0 name offset", k.proto);
  // Just past the end: the first offset that is out.
  const uint32_t str_len = k.hdr().str_len;
  check_refused(k.with_word(k.var, kNameOff, str_len), "past the string section", k.var);
}

TEST_CASE("a name that runs off the end of the string section is refused") {
  EveryKind k;
  auto raw = k.raw;
  REQUIRE(raw.back() == '\0');
  raw.back() = 'x';  // "zlast" loses its NUL
  check_refused(raw, "is not NUL-terminated", k.last);
}

TEST_CASE("a referenced type id past the last type is refused, wherever it is referred to") {
  EveryKind k;
  struct Case {
    const char* what;
    int id;
    size_t at;
    const char* says;
  };
  const Case cases[] = {
      {"pointer", k.ptr, kType, "referenced type refers to type [16777215]"},
      {"typedef", k.tdef, kType, "referenced type"},
      {"const", k.cnst, kType, "referenced type"},
      {"var", k.var, kType, "referenced type"},
      {"decl_tag", k.dtag, kType, "referenced type"},
      {"type_tag", k.ttag, kType, "referenced type"},
      {"func", k.func, kType, "prototype refers to type"},
      {"struct member", k.s, kData + 12 + 4, "member 1 refers to type"},
      {"union member", k.u, kData + 4, "member 0 refers to type"},
      {"array element", k.arr, kData + 0, "element type refers to type"},
      {"array index", k.arr, kData + 4, "index type refers to type"},
      {"return type", k.proto, kType, "return type refers to type"},
      {"parameter", k.proto, kData + 4, "parameter 0 refers to type"},
      {"datasec variable", k.sec, kData + 0, "variable 0 refers to type"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    check_refused(k.with_word(c.id, c.at, kFarAway), c.says, c.id);
  }
  // One past the last id is the first that does not exist.
  check_refused(k.with_word(k.ptr, kType, static_cast<uint32_t>(k.last) + 1), "past the last type [" + std::to_string(k.last) + "]", k.ptr);
  CHECK(BtfView::parse(k.with_word(k.ptr, kType, static_cast<uint32_t>(k.last))).ok());
}

TEST_CASE("a FUNC must refer to a FUNC_PROTO") {
  EveryKind k;
  check_refused(k.with_word(k.func, kType, static_cast<uint32_t>(k.i)), "is not a FUNC_PROTO", k.func);
  check_refused(k.with_word(k.func, kType, 0), "is not a FUNC_PROTO", k.func);
  // Forward: checked after the pass.
  check_refused(k.with_word(k.func, kType, static_cast<uint32_t>(k.last)), "is not a FUNC_PROTO", k.func);
}

TEST_CASE("a vlen that runs past the type section is refused") {
  EveryKind k;
  const uint32_t info = BTF_KIND_STRUCT << 24 | 0xffff;
  check_refused(k.with_word(k.last, kInfo, info), "runs past the type section", k.last);
  // A struct in the middle claiming more members than follow reads the next
  // records as members; the record after it is then garbage or runs out.
  auto mid = k.with_word(k.s, kInfo, BTF_KIND_STRUCT << 24 | 0xffff);
  CHECK_FALSE(BtfView::parse(mid).ok());
}

TEST_CASE("unknown kinds, bad enum sizes and impossible member offsets are refused") {
  EveryKind k;
  check_refused(k.with_word(k.flt, kInfo, 31u << 24), "unknown kind 31", k.flt);
  auto e = k.with_word(k.e, kType, 3);
  check_refused(e, "enum size 3 is not 1, 2, 4 or 8", k.e);
  check_refused(k.with_word(k.u, kData + 8, 8), "union member 0 is at bit offset 8, not 0", k.u);
  check_refused(k.with_word(k.s, kData + 12 + 8, 16 * 8 + 1), "member 1 starts past the end of its 16-byte struct", k.s);
  // A member may start at the very end (a flexible array).
  CHECK(BtfView::parse(k.with_word(k.s, kData + 12 + 8, 16 * 8)).ok());
}

TEST_CASE("bytes the header does not declare are refused: padding, gaps") {
  EveryKind k;
  auto padded = k.raw;
  padded.resize(padded.size() + 4096, 0);
  check_refused(padded, "4096 bytes past its string section (padding or trailing garbage)", -1);
  auto one = k.raw;
  one.push_back(0);
  check_refused(one, "1 bytes past its string section", -1);
  // A gap between types and strings: strings moved 8 bytes further.
  auto h = k.hdr();
  auto gap = k.raw;
  gap.insert(gap.begin() + h.hdr_len + h.str_off, 8, 0);
  h.str_off += 8;
  std::memcpy(gap.data(), &h, sizeof(h));
  check_refused(gap, "8 undeclared bytes between its type and string sections", -1);
}

TEST_CASE("framing: version, header length, misaligned type section") {
  EveryKind k;
  auto h = k.hdr();
  auto bad_version = k.raw;
  bad_version[2] = 2;
  auto v = BtfView::parse(bad_version);
  REQUIRE_FALSE(v.ok());
  CHECK(v.error().code == Errc::unsupported);
  auto long_hdr = k.raw;
  h.hdr_len = static_cast<uint32_t>(k.raw.size()) + 1;
  std::memcpy(long_hdr.data(), &h, sizeof(h));
  check_refused(long_hdr, "header length", -1);
  // A header 2 bytes longer puts every record off its 4-byte alignment.
  h = k.hdr();
  auto odd = k.raw;
  odd.insert(odd.begin() + h.hdr_len, 2, 0);
  h.hdr_len += 2;
  std::memcpy(odd.data(), &h, sizeof(h));
  check_refused(odd, "misaligned", -1);
}

TEST_CASE("real kernels' BTF is accepted") {
  std::vector<std::string> paths;
  if (const char* fixture = std::getenv("BTFD_FIXTURE_KERNEL_BTF")) paths.emplace_back(fixture);
  if (::access("/sys/kernel/btf/vmlinux", R_OK) == 0) paths.emplace_back("/sys/kernel/btf/vmlinux");
  for (const auto& path : paths) {
    INFO("kernel BTF: ", path);
    auto bytes = read_file(path, 1ull << 30);
    REQUIRE(bytes.ok());
    auto v = BtfView::parse(*bytes);
    REQUIRE_MESSAGE(v.ok(), (v.ok() ? std::string() : v.error().message));
    CHECK(v->type_cnt() > 1000);
  }
  // Without a kernel at hand, a generated one: every kind, as pahole would write it.
  EveryKind k;
  CHECK(KernelBtf::parse(k.raw).ok());
}

TEST_CASE("a kernel file with a hostile name is refused when it is loaded from disk") {
  EveryKind k;
  auto raw = k.with_word(k.s, kNameOff, kFarAway);
  char path[] = "/tmp/btfd-validate-XXXXXX";
  UniqueFd fd(mkstemp(path));
  REQUIRE(fd);
  unlink(path);
  REQUIRE(write(fd.get(), raw.data(), raw.size()) == static_cast<ssize_t>(raw.size()));
  auto loaded = KernelBtf::load(fd.get(), 1 << 20);  // mapped: the path the daemon takes
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().message.find("BTF type [" + std::to_string(k.s) + "]") != std::string::npos);
}

namespace {

using BtfOwner = std::unique_ptr<struct btf, decltype(&btf__free)>;

std::vector<uint8_t> raw_of(struct btf* b) {
  __u32 size = 0;
  auto* d = static_cast<const uint8_t*>(btf__raw_data(b, &size));
  return {d, d + size};
}

// libbpf's writer checks only that ids are in range when a type is added, so
// a loop is written by referring forward to an id about to be added.
struct Loops {
  BtfOwner b{btf__new_empty(), btf__free};
  int i = btf__add_int(b.get(), "int", 4, BTF_INT_SIGNED);
  int next() const { return static_cast<int>(btf__type_cnt(b.get())); }
};

}  // namespace

TEST_CASE("reference loops are refused, naming the types on the loop") {
  {
    Loops l;  // a const that is its own type
    const int c = l.next();
    REQUIRE(btf__add_const(l.b.get(), c) == c);
    check_refused(raw_of(l.b.get()), "BTF type [2] CONST -> [2]: reference loop", 2);
  }
  {
    Loops l;  // pointer -> const -> pointer
    const int p = l.next();
    REQUIRE(btf__add_ptr(l.b.get(), p + 1) == p);
    REQUIRE(btf__add_const(l.b.get(), p) == p + 1);
    check_refused(raw_of(l.b.get()), "BTF type [2] PTR -> [3] CONST -> [2]: reference loop", 2);
  }
  {
    Loops l;  // typedef a -> volatile -> restrict -> type_tag -> typedef a
    const int t = l.next();
    REQUIRE(btf__add_typedef(l.b.get(), "a", t + 1) == t);
    REQUIRE(btf__add_volatile(l.b.get(), t + 2) > 0);
    REQUIRE(btf__add_restrict(l.b.get(), t + 3) > 0);
    REQUIRE(btf__add_type_tag(l.b.get(), "tag", t) > 0);
    check_refused(raw_of(l.b.get()),
                  "BTF type [2] TYPEDEF -> [3] VOLATILE -> [4] RESTRICT -> [5] TYPE_TAG -> [2]: reference loop", 2);
  }
  {
    Loops l;  // a pointer to an array of itself: no struct ends the C declaration
    const int p = l.next();
    REQUIRE(btf__add_ptr(l.b.get(), p + 1) == p);
    REQUIRE(btf__add_array(l.b.get(), l.i, p, 4) == p + 1);
    check_refused(raw_of(l.b.get()), "BTF type [2] PTR -> [3] ARRAY -> [2]: reference loop", 2);
  }
  {
    Loops l;  // a loop reached from a chain that enters it: the loop is named, not the way in
    const int p = l.next();
    REQUIRE(btf__add_ptr(l.b.get(), p + 1) == p);
    REQUIRE(btf__add_typedef(l.b.get(), "x", p + 2) == p + 1);
    REQUIRE(btf__add_const(l.b.get(), p + 1) == p + 2);
    check_refused(raw_of(l.b.get()), "BTF type [3] TYPEDEF -> [4] CONST -> [3]: reference loop", 3);
  }
  {
    Loops l;  // a long loop is cut short in the message
    const int first = l.next();
    for (int k = 0; k < 100; ++k) REQUIRE(btf__add_const(l.b.get(), k == 99 ? first : first + k + 1) == first + k);
    check_refused(raw_of(l.b.get()), "-> ... (100 types in all) -> [2]: reference loop", 2);
  }
}

TEST_CASE("a struct or union that holds itself by value is refused") {
  {
    Loops l;  // struct s { struct s self; }
    const int s = l.next();
    REQUIRE(btf__add_struct(l.b.get(), "s", 8) == s);
    REQUIRE(btf__add_field(l.b.get(), "self", s, 0, 0) == 0);
    check_refused(raw_of(l.b.get()), "BTF type [2] STRUCT -> [2]: containment loop", 2);
  }
  {
    Loops l;  // struct a { int x; struct b b; }; union b { const a_t arr[2]; }; typedef struct a a_t;
    const int a = l.next();
    REQUIRE(btf__add_struct(l.b.get(), "a", 16) == a);
    REQUIRE(btf__add_field(l.b.get(), "x", l.i, 0, 0) == 0);
    REQUIRE(btf__add_field(l.b.get(), "b", a + 1, 32, 0) == 0);
    REQUIRE(btf__add_union(l.b.get(), "b", 8) == a + 1);
    REQUIRE(btf__add_field(l.b.get(), "arr", a + 2, 0, 0) == 0);
    REQUIRE(btf__add_array(l.b.get(), l.i, a + 3, 2) == a + 2);
    REQUIRE(btf__add_const(l.b.get(), a + 4) == a + 3);
    REQUIRE(btf__add_typedef(l.b.get(), "a_t", a) == a + 4);
    check_refused(raw_of(l.b.get()),
                  "BTF type [2] STRUCT -> [3] UNION -> [4] ARRAY -> [5] CONST -> [6] TYPEDEF -> [2]: containment loop", 2);
  }
}

TEST_CASE("loops through a pointer to a struct or through a FUNC_PROTO are normal and accepted") {
  Loops l;
  // struct list_head { struct list_head *next, *prev; };
  const int lh = l.next();
  REQUIRE(btf__add_struct(l.b.get(), "list_head", 16) == lh);
  REQUIRE(btf__add_field(l.b.get(), "next", lh + 1, 0, 0) == 0);
  REQUIRE(btf__add_field(l.b.get(), "prev", lh + 1, 64, 0) == 0);
  REQUIRE(btf__add_ptr(l.b.get(), lh) == lh + 1);
  // typedef struct node node_t; struct node { const node_t *volatile next; node_t *kids[2]; };
  const int node = l.next();
  REQUIRE(btf__add_struct(l.b.get(), "node", 24) == node);
  REQUIRE(btf__add_field(l.b.get(), "next", node + 1, 0, 0) == 0);
  REQUIRE(btf__add_field(l.b.get(), "kids", node + 5, 64, 0) == 0);
  REQUIRE(btf__add_volatile(l.b.get(), node + 2) == node + 1);
  REQUIRE(btf__add_ptr(l.b.get(), node + 3) == node + 2);
  REQUIRE(btf__add_const(l.b.get(), node + 4) == node + 3);
  REQUIRE(btf__add_typedef(l.b.get(), "node_t", node) == node + 4);
  REQUIRE(btf__add_array(l.b.get(), l.i, node + 6, 2) == node + 5);
  REQUIRE(btf__add_ptr(l.b.get(), node + 4) == node + 6);
  // typedef int (*cb_t)(cb_t): a prototype that takes a pointer to itself.
  const int cb = l.next();
  REQUIRE(btf__add_typedef(l.b.get(), "cb_t", cb + 1) == cb);
  REQUIRE(btf__add_ptr(l.b.get(), cb + 2) == cb + 1);
  REQUIRE(btf__add_func_proto(l.b.get(), l.i) == cb + 2);
  REQUIRE(btf__add_func_param(l.b.get(), "self", cb) == 0);
  auto raw = raw_of(l.b.get());
  auto v = BtfView::parse(raw);
  REQUIRE_MESSAGE(v.ok(), (v.ok() ? std::string() : v.error().message));
  CHECK(KernelBtf::parse(raw).ok());
}

TEST_CASE("a deep chain without a loop is accepted (no recursion in the check)") {
  Loops l;
  // 200000 consts, each referring to the next, then an int; and a struct
  // nested 100000 deep by value.
  const int first = l.next();
  constexpr int kDeep = 200000;
  for (int k = 0; k < kDeep; ++k) REQUIRE(btf__add_const(l.b.get(), k == kDeep - 1 ? l.i : first + k + 1) == first + k);
  const int s = l.next();
  constexpr int kNest = 100000;
  for (int k = 0; k < kNest; ++k) {
    REQUIRE(btf__add_struct(l.b.get(), "", 4) == s + k);
    REQUIRE(btf__add_field(l.b.get(), "in", k == kNest - 1 ? l.i : s + k + 1, 0, 0) == 0);
  }
  auto raw = raw_of(l.b.get());
  auto v = BtfView::parse(raw);
  REQUIRE_MESSAGE(v.ok(), (v.ok() ? std::string() : v.error().message));
}
