// SPDX-License-Identifier: GPL-2.0-or-later
// libbpf's CO-RE rules on small BTFs built in-process with libbpf's writer.
#include <bpf/btf.h>
#include <doctest/doctest.h>

#include "btf/btf_view.hpp"
#include "btf/core_rules.hpp"
#include "btf/kernel_btf.hpp"
#include "btf/marker.hpp"
#include "btf/minimizer.hpp"
#include "btf/object_file.hpp"

using namespace btfd;
using namespace btfd::btf;

TEST_CASE("essential names strip the last ___flavor only") {
  CHECK(essential_name("foo___v2") == "foo");
  CHECK(essential_name("a___b___c") == "a___b");
  CHECK(essential_name("foo____x") == "foo____x");
  CHECK(essential_name("foo") == "foo");
  CHECK(essential_name("___x") == "___x");
  CHECK(essential_name("task_struct___old") == "task_struct");
}

namespace {
// A snapshot of a BTF built with libbpf's writer, as the view the rules read.
class View {
 public:
  explicit View(const struct btf* b) {
    __u32 size = 0;
    auto p = static_cast<const uint8_t*>(btf__raw_data(b, &size));
    raw_.assign(p, p + size);
    auto v = BtfView::parse(raw_);
    REQUIRE(v.ok());
    view_ = std::move(v).value();
  }
  View(const View&) = delete;
  View& operator=(const View&) = delete;
  const BtfView* get() const { return &view_; }

 private:
  std::vector<uint8_t> raw_;
  BtfView view_;
};

// struct inner { int x; }; struct outer { int a; union { int b; struct inner in; }; int arr[4]; long l; };
struct Sample {
  BtfPtr btf{btf__new_empty()};
  int int_id, long_id, inner, anon_union, arr, outer, enum_id, typedef_id, ptr;
  Sample() {
    struct btf* b = btf.get();
    int_id = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
    long_id = btf__add_int(b, "long", 8, BTF_INT_SIGNED);
    inner = btf__add_struct(b, "inner", 4);
    btf__add_field(b, "x", int_id, 0, 0);
    anon_union = btf__add_union(b, nullptr, 4);
    btf__add_field(b, "b", int_id, 0, 0);
    btf__add_field(b, "in", inner, 0, 0);
    arr = btf__add_array(b, int_id, int_id, 4);
    outer = btf__add_struct(b, "outer", 32);
    btf__add_field(b, "a", int_id, 0, 0);
    btf__add_field(b, nullptr, anon_union, 32, 0);
    btf__add_field(b, "arr", arr, 64, 0);
    btf__add_field(b, "l", long_id, 192, 0);
    enum_id = btf__add_enum(b, "color", 4);
    btf__add_enum_value(b, "RED", 1);
    btf__add_enum_value(b, "BLUE___x", 7);
    typedef_id = btf__add_typedef(b, "outer_t", outer);
    ptr = btf__add_ptr(b, outer);
  }
  std::unique_ptr<View> view;
  // Built on first use, so every type must have been added by then.
  const BtfView* v() {
    if (!view) view = std::make_unique<View>(btf.get());
    return view->get();
  }
  std::vector<uint8_t> raw() const {
    __u32 size = 0;
    auto p = static_cast<const uint8_t*>(btf__raw_data(btf.get(), &size));
    return {p, p + size};
  }
};
}  // namespace

TEST_CASE("access strings: parsing, anonymous levels, arrays and errors") {
  Sample s;
  auto spec = parse_local_spec(s.v(), static_cast<uint32_t>(s.outer), "0:1:1:0", BPF_CORE_FIELD_BYTE_OFFSET);
  REQUIRE(spec.ok());
  CHECK(spec->raw == std::vector<uint32_t>{0, 1, 1, 0});
  // accessor 0, "in", "x": the anonymous union leaves no named accessor
  REQUIRE(spec->spec.size() == 3);
  CHECK(std::string(spec->spec[1].name) == "in");
  CHECK(spec->bit_offset == 32);
  auto a = parse_local_spec(s.v(), static_cast<uint32_t>(s.outer), "0:2:3", BPF_CORE_FIELD_BYTE_OFFSET);
  REQUIRE(a.ok());
  CHECK(a->bit_offset == 64 + 3 * 32);
  CHECK_FALSE(parse_local_spec(s.v(), static_cast<uint32_t>(s.outer), "0:2:4", 0).ok());  // out of bounds
  CHECK_FALSE(parse_local_spec(s.v(), static_cast<uint32_t>(s.outer), "0:9", 0).ok());
  CHECK_FALSE(parse_local_spec(s.v(), static_cast<uint32_t>(s.outer), "", 0).ok());
  CHECK_FALSE(parse_local_spec(s.v(), static_cast<uint32_t>(s.outer), ":0", 0).ok());
  CHECK_FALSE(parse_local_spec(s.v(), static_cast<uint32_t>(s.outer), "0:", 0).ok());
  CHECK_FALSE(parse_local_spec(s.v(), static_cast<uint32_t>(s.outer), "0:x", 0).ok());
  CHECK_FALSE(parse_local_spec(s.v(), static_cast<uint32_t>(s.outer), "1", BPF_CORE_TYPE_EXISTS).ok());
  std::string deep = "0";
  for (int i = 0; i < 64; ++i) deep += ":0";
  auto d = parse_local_spec(s.v(), static_cast<uint32_t>(s.outer), deep.c_str(), 0);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().code == Errc::too_large);
  auto e = parse_local_spec(s.v(), static_cast<uint32_t>(s.enum_id), "1", BPF_CORE_ENUMVAL_VALUE);
  REQUIRE(e.ok());
  CHECK(std::string(e->spec[0].name) == "BLUE___x");
  CHECK_FALSE(parse_local_spec(s.v(), static_cast<uint32_t>(s.enum_id), "2", BPF_CORE_ENUMVAL_VALUE).ok());
}

TEST_CASE("field matching follows members through anonymous unions, by exact member name") {
  Sample local, target;
  // The target has the union's members in a different position: offsets follow the target.
  BtfPtr t(btf__new_empty());
  int ti = btf__add_int(t.get(), "int", 4, BTF_INT_SIGNED);
  int tinner = btf__add_struct(t.get(), "inner", 8);
  btf__add_field(t.get(), "pad", ti, 0, 0);
  btf__add_field(t.get(), "x", ti, 32, 0);
  int tu = btf__add_union(t.get(), nullptr, 8);
  btf__add_field(t.get(), "in", tinner, 0, 0);
  int touter = btf__add_struct(t.get(), "outer___v2", 24);
  btf__add_field(t.get(), "z", ti, 0, 0);
  btf__add_field(t.get(), "a", ti, 32, 0);
  btf__add_field(t.get(), nullptr, tu, 64, 0);
  View tv(t.get());
  auto spec = parse_local_spec(local.v(), static_cast<uint32_t>(local.outer), "0:1:1:0", BPF_CORE_FIELD_BYTE_OFFSET);
  REQUIRE(spec.ok());
  Spec targ;
  REQUIRE(match_candidate(*spec, tv.get(), static_cast<uint32_t>(touter), &targ) == 1);
  CHECK(targ.raw == std::vector<uint32_t>{0, 2, 0, 1});
  CHECK(targ.bit_offset == 64 + 32);
  auto v = relo_value(targ, BPF_CORE_FIELD_BYTE_OFFSET);
  REQUIRE(v.ok());
  CHECK(v->value == 12);
  // "b" does not exist in the target union: no match (not an error).
  auto specb = parse_local_spec(local.v(), static_cast<uint32_t>(local.outer), "0:1:0", BPF_CORE_FIELD_EXISTS);
  REQUIRE(specb.ok());
  CHECK(match_candidate(*specb, tv.get(), static_cast<uint32_t>(touter), &targ) == 0);
}

TEST_CASE("type compatibility and enum matching") {
  Sample a, b;
  auto spec = parse_local_spec(a.v(), static_cast<uint32_t>(a.ptr), "0", BPF_CORE_TYPE_EXISTS);
  REQUIRE(spec.ok());
  Spec targ;
  CHECK(match_candidate(*spec, b.v(), static_cast<uint32_t>(b.ptr), &targ) == 1);
  CHECK(match_candidate(*spec, b.v(), static_cast<uint32_t>(b.int_id), &targ) == 0);  // kind differs
  auto ev = parse_local_spec(a.v(), static_cast<uint32_t>(a.enum_id), "1", BPF_CORE_ENUMVAL_VALUE);
  REQUIRE(ev.ok());
  REQUIRE(match_candidate(*ev, b.v(), static_cast<uint32_t>(b.enum_id), &targ) == 1);
  auto val = relo_value(targ, BPF_CORE_ENUMVAL_VALUE);
  REQUIRE(val.ok());
  CHECK(val->value == 7);
  // TYPE_MATCHES needs the same int size and signedness.
  auto tm = parse_local_spec(a.v(), static_cast<uint32_t>(a.long_id), "0", BPF_CORE_TYPE_MATCHES);
  REQUIRE(tm.ok());
  CHECK(match_candidate(*tm, b.v(), static_cast<uint32_t>(b.long_id), &targ) == 1);
  BtfPtr u(btf__new_empty());
  int unsigned_long = btf__add_int(u.get(), "long", 8, 0);
  View uv(u.get());
  CHECK(match_candidate(*tm, uv.get(), static_cast<uint32_t>(unsigned_long), &targ) == 0);
}

TEST_CASE("the one-pass essential-name hash equals hashing the essential name") {
  for (const char* n : {"foo___v2", "a___b___c", "foo____x", "foo", "___x", "x___", "task_struct___old", "a_b", "z"})
    CHECK_MESSAGE(essential_name_hash(n) == name_hash(essential_name(n)), n);
}

TEST_CASE("a kernel index finds flavored candidates by essential name") {
  Sample s;
  btf__add_struct(s.btf.get(), "outer___v3", 8);
  auto raw = s.raw();
  auto k = KernelBtf::parse(raw);
  REQUIRE(k.ok());
  auto ids = (*k)->ids_with_essential_hash("outer");
  CHECK(ids.size() == 2);
  CHECK(ids[0] < ids[1]);
  CHECK((*k)->memory_bytes() > raw.size());
  std::vector<uint8_t> junk(100, 0);
  CHECK_FALSE(KernelBtf::parse(junk).ok());
}

TEST_CASE("no objects give the empty 25-byte BTF, deterministically") {
  Sample s;
  auto raw = s.raw();
  auto k = KernelBtf::parse(raw);
  REQUIRE(k.ok());
  auto r1 = minimize(**k, {});
  REQUIRE(r1.ok());
  CHECK(r1->btf.size() == 25);
  std::vector<uint8_t> notelf(100, 7);
  ObjectInput bad{"bad.o", notelf};
  auto r2 = minimize(**k, std::span(&bad, 1));
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().message.find("bad.o") != std::string::npos);
}

TEST_CASE("enum64 targets match enum locals; values come from the 64-bit pair") {
  Sample local;
  BtfPtr t(btf__new_empty());
  int e64 = btf__add_enum64(t.get(), "color", 8, false);
  btf__add_enum64_value(t.get(), "RED", 0x100000001ull);
  btf__add_enum64_value(t.get(), "BLUE", 0x7ffffffffull);
  auto ev = parse_local_spec(local.v(), static_cast<uint32_t>(local.enum_id), "1", BPF_CORE_ENUMVAL_VALUE);
  REQUIRE(ev.ok());
  Spec targ;
  View tv(t.get());
  REQUIRE(match_candidate(*ev, tv.get(), static_cast<uint32_t>(e64), &targ) == 1);
  auto v = relo_value(targ, BPF_CORE_ENUMVAL_VALUE);
  REQUIRE(v.ok());
  CHECK(v->value == 0x7ffffffffull);
}

TEST_CASE("type tags are followed like modifiers and forward declarations are leaves") {
  BtfPtr k(btf__new_empty());
  int i = btf__add_int(k.get(), "int", 4, BTF_INT_SIGNED);
  int fwd = btf__add_fwd(k.get(), "opaque", BTF_FWD_STRUCT);
  int s = btf__add_struct(k.get(), "holder", 16);
  // Fields attach to the last struct added; "self" refers ahead to the pointer below.
  REQUIRE(btf__add_field(k.get(), "v", i, 0, 0) == 0);
  REQUIRE(btf__add_field(k.get(), "self", s + 2, 64, 0) == 0);
  int tag = btf__add_type_tag(k.get(), "user", s);
  int ptr = btf__add_ptr(k.get(), tag);
  REQUIRE(ptr == s + 2);
  int fptr = btf__add_ptr(k.get(), fwd);
  View kv(k.get());
  Marker m(kv.get());
  m.mark(static_cast<uint32_t>(ptr), true);  // what a type-based relocation keeps
  CHECK(m.marked(static_cast<uint32_t>(tag)));
  CHECK(m.marked(static_cast<uint32_t>(s)));
  CHECK_FALSE(m.member_marked(static_cast<uint32_t>(s), 0));  // a struct reached this way keeps no members
  CHECK_FALSE(m.marked(static_cast<uint32_t>(i)));            // ... nor their types
  m.mark(static_cast<uint32_t>(fptr), true);
  CHECK(m.marked(static_cast<uint32_t>(fwd)));
  m.mark_match(static_cast<uint32_t>(s), false);  // type_matches keeps every member
  CHECK(m.member_marked(static_cast<uint32_t>(s), 0));
  CHECK(m.member_marked(static_cast<uint32_t>(s), 1));
  CHECK(m.marked(static_cast<uint32_t>(i)));
}

TEST_CASE("type_matches behind a pointer accepts a forward declaration of the same kind") {
  BtfPtr l(btf__new_empty()), t(btf__new_empty());
  int ls = btf__add_struct(l.get(), "node", 8);
  int lp = btf__add_ptr(l.get(), ls);
  int lh = btf__add_struct(l.get(), "head", 8);
  btf__add_field(l.get(), "first", lp, 0, 0);
  int tf = btf__add_fwd(t.get(), "node", BTF_FWD_STRUCT);
  int tp = btf__add_ptr(t.get(), tf);
  int th = btf__add_struct(t.get(), "head", 16);
  btf__add_field(t.get(), "first", tp, 0, 0);
  View lv(l.get()), tv(t.get());
  auto spec = parse_local_spec(lv.get(), static_cast<uint32_t>(lh), "0", BPF_CORE_TYPE_MATCHES);
  REQUIRE(spec.ok());
  Spec targ;
  CHECK(match_candidate(*spec, tv.get(), static_cast<uint32_t>(th), &targ) == 1);
  // The same struct not behind a pointer needs a struct, not a forward declaration.
  auto direct = parse_local_spec(lv.get(), static_cast<uint32_t>(ls), "0", BPF_CORE_TYPE_MATCHES);
  REQUIRE(direct.ok());
  CHECK(match_candidate(*direct, tv.get(), static_cast<uint32_t>(tf), &targ) == 0);
}

TEST_CASE("a kernel with 4-byte pointers keeps the INT libbpf sizes pointers by") {
  for (int long_size : {4, 8}) {
    BtfPtr k(btf__new_empty());
    int i = btf__add_int(k.get(), "int", 4, BTF_INT_SIGNED);
    int l = btf__add_int(k.get(), "long int", long_size, BTF_INT_SIGNED);
    int s = btf__add_struct(k.get(), "holder", 4);
    btf__add_field(k.get(), "v", i, 0, 0);
    int p = btf__add_ptr(k.get(), s);
    View kv(k.get());
    CHECK(kv.get()->pointer_size() == long_size);
    CHECK(kv.get()->pointer_size_type() == static_cast<uint32_t>(l));
    Marker m(kv.get());
    m.mark(static_cast<uint32_t>(p), true);
    m.keep_pointer_size_hint();
    // Only a 32-bit kernel needs the hint; libbpf assumes 8 otherwise.
    CHECK(m.marked(static_cast<uint32_t>(l)) == (long_size == 4));
  }
}

TEST_CASE("access-string indices are libbpf's: 0..INT_MAX, and bit offsets wrap as its __u32 does") {
  Sample s;
  for (const char* access : {"0:99999999999999999999", "99999999999999999999", "0:2147483648", "4294967296",
                             "0:18446744073709551616"}) {
    INFO(access);
    auto spec = parse_local_spec(s.v(), static_cast<uint32_t>(s.outer), access, BPF_CORE_FIELD_BYTE_OFFSET);
    REQUIRE_FALSE(spec.ok());
    CHECK(spec.error().message.find("index out of range") != std::string::npos);
  }
  // The largest index times the largest size: unsigned arithmetic, no signed
  // overflow (UBSan watches this in the sanitized build).
  BtfPtr b(btf__new_empty());
  int huge = btf__add_struct(b.get(), "huge", 0xffffffffu);
  View v(b.get());
  auto spec = parse_local_spec(v.get(), static_cast<uint32_t>(huge), "2147483647", BPF_CORE_FIELD_BYTE_OFFSET);
  REQUIRE(spec.ok());
  CHECK(spec->bit_offset == static_cast<uint32_t>(uint64_t{2147483647} * 0xffffffffull * 8));
  Spec targ;
  CHECK(match_candidate(*spec, v.get(), static_cast<uint32_t>(huge), &targ) == 1);
  CHECK(targ.bit_offset == spec->bit_offset);
}
