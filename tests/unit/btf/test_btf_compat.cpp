// SPDX-License-Identifier: GPL-2.0-or-later
// rewrite_for_level: BTF for older readers. On BTF holding every kind (built
// with libbpf's writer) and on real kernels: type ids kept, no kind or flag
// above the level left, the kinds the reader knows unchanged, sizes kept,
// btf_validate and libbpf's btf__new accept the result; the level names.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "btf/btf_compat.hpp"
#include "btf/btf_validate.hpp"
#include "btf/object_file.hpp"
#include "btf_raw.hpp"
#include "hostile_btf.hpp"
#include "util/fd.hpp"

using namespace btfd;
using namespace btfd::btf;

namespace {

BtfPtr libbpf_parse(const std::vector<uint8_t>& raw) {
  return BtfPtr(btf__new(raw.data(), static_cast<__u32>(raw.size())));
}

CompatLevel level(const char* name) {
  auto l = parse_compat_level(name);
  REQUIRE_MESSAGE(l.ok(), name);
  return *l;
}

// The highest kind a level may hold, and whether it may carry each flag.
bool allowed(const struct btf_type* t, uint32_t f) {
  switch (btf_kind(t)) {
    case BTF_KIND_VAR:
    case BTF_KIND_DATASEC: return f & kVarDatasec;
    case BTF_KIND_FUNC: return btf_vlen(t) == BTF_FUNC_STATIC || (f & kFuncLinkage);
    case BTF_KIND_FLOAT: return f & kFloat;
    case BTF_KIND_DECL_TAG: return (f & kDeclTag) && (!btf_kflag(t) || (f & kTagKindFlag));
    case BTF_KIND_TYPE_TAG: return (f & kTypeTag) && (!btf_kflag(t) || (f & kTagKindFlag));
    case BTF_KIND_ENUM64: return f & kEnum64;
    case BTF_KIND_ENUM: return !btf_kflag(t) || (f & kEnum64);
    default: return btf_kind(t) <= BTF_KIND_FUNC_PROTO;
  }
}

bool is_base_kind(const struct btf_type* t) {
  return btf_kind(t) <= BTF_KIND_FUNC_PROTO && !btf_is_func(t) && !btf_is_enum(t);
}

// The checks every rewrite passes, whatever its input: returns what was
// checked so that callers can see the test saw something.
struct Checked {
  uint32_t types = 0, replaced = 0;
};
Checked check_rewrite(const std::vector<uint8_t>& in, const CompatLevel& lvl) {
  CompatStats st;
  auto out = rewrite_for_level(in, lvl, &st);
  REQUIRE_MESSAGE(out.ok(), out.error().message);
  CHECK(out->size() <= in.size());
  auto vin = validate_btf(in);
  auto vout = validate_btf(*out);
  REQUIRE(vin.ok());
  REQUIRE_MESSAGE(vout.ok(), vout.error().message);
  BtfPtr lin = libbpf_parse(in);
  BtfPtr lout = libbpf_parse(*out);
  REQUIRE(lin != nullptr);
  REQUIRE_MESSAGE(lout != nullptr, "libbpf's btf__new refuses the rewritten BTF at level ", lvl.name);
  const uint32_t n = btf__type_cnt(lin.get());
  REQUIRE(btf__type_cnt(lout.get()) == n);  // ids kept
  Checked c;
  for (uint32_t id = 1; id < n; ++id) {
    const struct btf_type* a = btf__type_by_id(lin.get(), id);
    const struct btf_type* b = btf__type_by_id(lout.get(), id);
    INFO("type [", id, "] kind ", btf_kind(a), " at level ", lvl.name);
    CHECK(allowed(b, lvl.features));
    ++c.types;
    if (allowed(a, lvl.features)) {
      // What the reader knows is what it gets, byte for byte.
      CHECK(btf_kind(b) == btf_kind(a));
      CHECK(a->info == b->info);
      CHECK(std::memcmp(a, b, btf_record_size(a)) == 0);
      continue;
    }
    ++c.replaced;
    if (is_base_kind(a)) FAIL("a base kind was changed");
    // Sizes kept: what holds a stand-in keeps its layout.
    if (btf_is_float(a) || btf_is_datasec(a) || btf_is_any_enum(a)) CHECK(b->size == a->size);
    if (btf_is_type_tag(a)) CHECK((btf_is_const(b) && b->type == a->type));
    if (btf_is_func(a)) CHECK((btf_is_func(b) && b->type == a->type && a->name_off == b->name_off));
    if (btf_is_any_enum(a)) {
      REQUIRE(btf_is_enum(b));
      CHECK_FALSE(btf_kflag(b));
      CHECK(a->name_off == b->name_off);
      // Every enumerator kept reads back the value it had; only those
      // that do not fit 32 bits are gone.
      for (uint32_t i = 0; i < btf_vlen(a); ++i) {
        const char* name = btf__name_by_offset(lin.get(), btf_is_enum(a) ? btf_enum(a)[i].name_off : btf_enum64(a)[i].name_off);
        const uint64_t was = btf_is_enum(a) ? static_cast<uint64_t>(static_cast<int64_t>(btf_enum(a)[i].val))
                                            : btf_enum64_value(btf_enum64(a) + i);
        const bool fits = static_cast<int64_t>(was) >= INT32_MIN && static_cast<int64_t>(was) <= INT32_MAX;
        bool found = false;
        for (uint32_t j = 0; j < btf_vlen(b); ++j)
          if (!std::strcmp(btf__name_by_offset(lout.get(), btf_enum(b)[j].name_off), name)) {
            found = true;
            CHECK(static_cast<uint64_t>(static_cast<int64_t>(btf_enum(b)[j].val)) == was);
          }
        CHECK(found == fits);
      }
    }
  }
  CHECK(st.types_rewritten == c.replaced);
  return c;
}

const char* const kEveryLevel[] = {"5.0", "5.2", "5.6", "5.13", "5.16", "5.17", "6.0", "6.15", "cilium-ebpf-0.9"};

// EveryKind with the cases the levels differ on: a signed enum, an ENUM64
// with values inside and outside 32 bits, attribute tags (kind_flag).
struct CompatKinds {
  std::vector<uint8_t> raw;
  int senum, e64, attr_ttag, attr_dtag;
  CompatKinds() {
    btfd::test::EveryKind k;
    BtfPtr b = libbpf_parse(k.raw);
    REQUIRE(b != nullptr);
    struct btf* p = b.get();
    senum = btf__add_enum(p, "signed_e", 4);
    btf__add_enum_value(p, "NEG", -3);
    btf__add_enum_value(p, "POS", 7);
    e64 = btf__add_enum64(p, "wide", 8, true);
    btf__add_enum64_value(p, "SMALL_NEG", -5);
    btf__add_enum64_value(p, "SMALL", 0x7fffffff);
    btf__add_enum64_value(p, "WIDE", 0x100000000ll);
    btf__add_enum64_value(p, "JUST_OVER", 0x80000000ll);
    attr_ttag = btf__add_type_tag(p, "address_space(1)", k.i);
    attr_dtag = btf__add_decl_tag(p, "noinline", k.func, -1);
    raw = test::raw_of(p);
    // libbpf 1.1 cannot write a kind_flag on a tag, nor a signed enum: set them.
    set_kflag(senum);
    set_kflag(attr_ttag);
    set_kflag(attr_dtag);
  }
  void set_kflag(int id) {
    auto l = validate_btf(raw);
    REQUIRE(l.ok());
    auto* t = reinterpret_cast<struct btf_type*>(raw.data() + sizeof(struct btf_header) + l->offsets.at(id));
    t->info |= 1u << 31;
  }
};

}  // namespace

TEST_CASE("levels: kernel releases, aliases, and an unknown level names itself and the known ones") {
  CHECK(level("5.0").features == 0);
  CHECK(level("5.2").features == kVarDatasec);
  CHECK(level("5.12").features == (kVarDatasec | kFuncLinkage));
  CHECK(level("5.13").features == (kVarDatasec | kFuncLinkage | kFloat));
  CHECK(level("5.10.0-28-amd64").features == level("5.10").features);
  CHECK(level("5.10.0-28-amd64").name == "5.10");
  CHECK(level("6.1").features == (kVarDatasec | kFuncLinkage | kFloat | kDeclTag | kTypeTag | kEnum64));
  CHECK(level("7.0").features == (level("6.15").features));
  CHECK((level("6.15").features & kTagKindFlag));
  CHECK(level("cilium-ebpf-0.9").features == level("5.13").features);
  CHECK(level("cilium-ebpf-0.9").name == "cilium-ebpf-0.9");
  for (const char* bad : {"4.19", "banana", "", "5", "5.", ".5", "5.x", "cilium-ebpf-0.10"}) {
    auto l = parse_compat_level(bad);
    REQUIRE_FALSE(l.ok());
    CHECK(l.error().code == Errc::invalid_argument);
    CHECK(l.error().message.find(std::string("\"") + bad + "\"") != std::string::npos);
    CHECK(l.error().message.find("cilium-ebpf-0.9") != std::string::npos);
    CHECK(l.error().message.find("5.13") != std::string::npos);
  }
  auto longname = parse_compat_level(std::string(10000, '5'));
  REQUIRE_FALSE(longname.ok());
  CHECK(longname.error().message.size() < 1000);
  CHECK(compat_missing(level("5.13")).find("BTF_KIND_ENUM64") != std::string::npos);
  CHECK(compat_missing(level("5.13")).find("FLOAT") == std::string::npos);
}

TEST_CASE("every kind a level lacks is replaced; what it knows is kept; ids, sizes and libbpf's parse hold") {
  CompatKinds k;
  for (const char* name : kEveryLevel) {
    INFO("level ", std::string(name));
    auto c = check_rewrite(k.raw, level(name));
    CHECK(c.types == static_cast<uint32_t>(k.attr_dtag));  // every type, the last added last
  }
  // The specific stand-ins, at the oldest level.
  auto out = rewrite_for_level(k.raw, level("5.0"));
  REQUIRE(out.ok());
  BtfPtr b = libbpf_parse(*out);
  REQUIRE(b != nullptr);
  btfd::test::EveryKind e;
  CHECK(btf_is_int(btf__type_by_id(b.get(), e.var)));
  CHECK(std::string(btf__name_by_offset(b.get(), btf__type_by_id(b.get(), e.var)->name_off)) == "v");
  CHECK(btf_is_struct(btf__type_by_id(b.get(), e.sec)));
  CHECK(btf__type_by_id(b.get(), e.sec)->size == 4);
  CHECK(btf_is_struct(btf__type_by_id(b.get(), e.flt)));
  CHECK(btf__resolve_size(b.get(), e.flt) == 4);
  CHECK(btf_is_int(btf__type_by_id(b.get(), e.dtag)));
  CHECK(btf_is_const(btf__type_by_id(b.get(), e.ttag)));
  CHECK(btf_vlen(btf__type_by_id(b.get(), e.func)) == BTF_FUNC_STATIC);
  const struct btf_type* wide = btf__type_by_id(b.get(), k.e64);
  REQUIRE(btf_is_enum(wide));
  CHECK(wide->size == 8);
  CHECK(btf_vlen(wide) == 2);  // SMALL_NEG and SMALL; WIDE and JUST_OVER do not fit
  CHECK(btf_enum(wide)[0].val == -5);
  CHECK(btf_enum(wide)[1].val == 0x7fffffff);
  // The ENUM64 of EveryKind holds 1 << 40 alone: an ENUM with no values.
  CHECK(btf_vlen(btf__type_by_id(b.get(), e.e64)) == 0);
  CompatStats st;
  REQUIRE(rewrite_for_level(k.raw, level("5.0"), &st).ok());
  CHECK(st.enumerators_dropped == 3);
}

TEST_CASE("attribute tags go below 6.15, plain tags stay from 5.16/5.17 on, FLOAT from 5.13") {
  CompatKinds k;
  btfd::test::EveryKind e;
  auto at = [&](const char* name, int id) {
    auto out = rewrite_for_level(k.raw, level(name));
    REQUIRE(out.ok());
    BtfPtr b = libbpf_parse(*out);
    REQUIRE(b != nullptr);
    return btf_kind(btf__type_by_id(b.get(), id));
  };
  CHECK(at("6.14", k.attr_ttag) == BTF_KIND_CONST);
  CHECK(at("6.15", k.attr_ttag) == BTF_KIND_TYPE_TAG);
  CHECK(at("6.14", k.attr_dtag) == BTF_KIND_INT);
  CHECK(at("6.14", e.ttag) == BTF_KIND_TYPE_TAG);
  CHECK(at("5.16", e.ttag) == BTF_KIND_CONST);
  CHECK(at("5.16", e.dtag) == BTF_KIND_DECL_TAG);
  CHECK(at("5.15", e.dtag) == BTF_KIND_INT);
  CHECK(at("5.13", e.flt) == BTF_KIND_FLOAT);
  CHECK(at("5.12", e.flt) == BTF_KIND_STRUCT);
  CHECK(at("6.0", k.e64) == BTF_KIND_ENUM64);
  CHECK(at("5.19", k.e64) == BTF_KIND_ENUM);
}

TEST_CASE("a level that lacks nothing the BTF holds leaves its bytes as they were") {
  btfd::test::EveryKind e;  // no attribute tags, no signed enums
  auto out = rewrite_for_level(e.raw, level("6.15"));
  REQUIRE(out.ok());
  CHECK(*out == e.raw);
}

TEST_CASE("damaged input is refused, not rewritten") {
  btfd::test::EveryKind e;
  auto bad = e.with_word(e.ptr, btfd::test::kType, 0x00ffffff);
  auto out = rewrite_for_level(bad, level("5.0"));
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().code == Errc::corrupt);
}

TEST_CASE("real kernels at every level: this host's and the fixture's") {
  std::vector<std::string> paths;
  if (const char* fixture = std::getenv("BTFD_FIXTURE_KERNEL_BTF")) paths.emplace_back(fixture);
  if (::access("/sys/kernel/btf/vmlinux", R_OK) == 0) paths.emplace_back("/sys/kernel/btf/vmlinux");
  REQUIRE_FALSE(paths.empty());
  for (const auto& path : paths) {
    CAPTURE(path);
    auto raw = read_file(path, 512u << 20);
    REQUIRE(raw.ok());
    BtfPtr orig = libbpf_parse(*raw);
    REQUIRE(orig != nullptr);
    uint32_t newer_kinds = 0;
    for (uint32_t id = 1; id < btf__type_cnt(orig.get()); ++id)
      newer_kinds += !allowed(btf__type_by_id(orig.get(), id), level("cilium-ebpf-0.9").features);
    for (const char* name : kEveryLevel) {
      INFO("level ", std::string(name));
      auto c = check_rewrite(*raw, level(name));
      CHECK(c.types > 1000);
      if (std::string(name) == "cilium-ebpf-0.9") CHECK(c.replaced == newer_kinds);
    }
  }
}
