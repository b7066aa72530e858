// SPDX-License-Identifier: GPL-2.0-or-later
// Merging types identical in the minimizer's output (btf/output_merge.cpp):
// hand-built graphs (cycles merge, a different offset or a different pointee
// does not), and a never-deduplicated kernel made at test time from a real one
// (every type twice or three times) minimizing to the very bytes the single
// kernel gives, for the real BPF test objects.
#include <bpf/btf.h>
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "btf_raw.hpp"
#include "btf/kernel_btf.hpp"
#include "btf/minimizer.hpp"
#include "btf/object_file.hpp"
#include "btf/output_merge.hpp"

using namespace btfd::btf;

namespace {

using btfd::test::raw_of;

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Merged {
  std::vector<uint8_t> raw;
  uint32_t types = 0;
};

Merged merge(const struct btf* b) {
  uint32_t types = 0;
  auto r = merge_identical_types(raw_of(b), &types);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
  // libbpf must accept what comes out.
  BtfPtr check(btf__new(r->data(), static_cast<__u32>(r->size())));
  REQUIRE(check);
  CHECK(btf__type_cnt(check.get()) - 1 == types);
  return {std::move(*r), types};
}

// struct node { struct node *next; int v; }: a cycle through a pointer.
// The pointer comes first: libbpf adds fields to the last type added.
int add_node(struct btf* b, int int_id) {
  int p = btf__add_ptr(b, static_cast<int>(btf__type_cnt(b)) + 1);
  int s = btf__add_struct(b, "node", 16);
  REQUIRE(s == p + 1);
  btf__add_field(b, "next", p, 0, 0);
  btf__add_field(b, "v", int_id, 64, 0);
  return s;
}

// struct outer { struct inner *p; } over struct inner { int y; } with y at
// y_bits: two copies differ only behind the pointer when y_bits differ.
int add_outer(struct btf* b, int int_id, uint32_t y_bits) {
  int in = btf__add_struct(b, "inner", 8);
  btf__add_field(b, "y", int_id, y_bits, 0);
  int p = btf__add_ptr(b, in);
  int out = btf__add_struct(b, "outer", 8);
  btf__add_field(b, "p", p, 0, 0);
  return out;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  REQUIRE_MESSAGE(v != nullptr, name << " is set by tests/meson.build");
  return v;
}

}  // namespace

TEST_CASE("a self-referencing struct in two copies merges to one, references remapped") {
  BtfPtr b(btf__new_empty());
  int i = btf__add_int(b.get(), "int", 4, BTF_INT_SIGNED);
  int s1 = add_node(b.get(), i);
  int s2 = add_node(b.get(), i);
  REQUIRE(s2 == s1 + 2);
  REQUIRE(btf__type_cnt(b.get()) - 1 == 5);
  Merged m = merge(b.get());
  CHECK(m.types == 3);
  BtfPtr out(btf__new(m.raw.data(), static_cast<__u32>(m.raw.size())));
  REQUIRE(out);
  // The lowest ids stand for their class: int, node *, node keep ids 1..3.
  const struct btf_type* node = btf__type_by_id(out.get(), 3);
  REQUIRE(btf_is_struct(node));
  CHECK(std::string(btf__name_by_offset(out.get(), node->name_off)) == "node");
  REQUIRE(btf_vlen(node) == 2);
  uint32_t ptr = btf_members(node)[0].type;
  CHECK(ptr == 2);
  const struct btf_type* p = btf__type_by_id(out.get(), ptr);
  REQUIRE(btf_is_ptr(p));
  CHECK(p->type == 3);  // the cycle closes on the kept copy
  CHECK(btf_members(node)[1].type == 1);
}

TEST_CASE("two cycles of different length but the same shape merge (bisimilar, not equal ids)") {
  // node1 -> node1 and node2 -> node3 -> node2: every node is "a node whose next
  // is such a node", so all three are one type in the output.
  BtfPtr b(btf__new_empty());
  int i = btf__add_int(b.get(), "int", 4, BTF_INT_SIGNED);
  add_node(b.get(), i);                        // 2: node *, 3: node
  int p3 = btf__add_ptr(b.get(), 7);           // 4 -> node 7
  int p2 = btf__add_ptr(b.get(), 6);           // 5 -> node 6
  int n2 = btf__add_struct(b.get(), "node", 16);  // 6
  btf__add_field(b.get(), "next", p3, 0, 0);
  btf__add_field(b.get(), "v", i, 64, 0);
  int n3 = btf__add_struct(b.get(), "node", 16);  // 7
  btf__add_field(b.get(), "next", p2, 0, 0);
  btf__add_field(b.get(), "v", i, 64, 0);
  REQUIRE(n2 == 6);
  REQUIRE(n3 == 7);
  REQUIRE(btf__type_cnt(b.get()) - 1 == 7);
  CHECK(merge(b.get()).types == 3);
}

TEST_CASE("structs that differ in one member offset do not merge") {
  BtfPtr b(btf__new_empty());
  int i = btf__add_int(b.get(), "int", 4, BTF_INT_SIGNED);
  btf__add_struct(b.get(), "pair", 8);
  btf__add_field(b.get(), "x", i, 0, 0);
  btf__add_struct(b.get(), "pair", 8);
  btf__add_field(b.get(), "x", i, 32, 0);
  Merged m = merge(b.get());
  CHECK(m.types == 3);
  CHECK(m.raw == raw_of(b.get()));  // nothing coincides: the bytes are unchanged
}

TEST_CASE("structs that differ only behind a pointer do not merge; the same ones do") {
  SUBCASE("different pointees") {
    BtfPtr b(btf__new_empty());
    int i = btf__add_int(b.get(), "int", 4, BTF_INT_SIGNED);
    add_outer(b.get(), i, 0);
    add_outer(b.get(), i, 32);
    REQUIRE(btf__type_cnt(b.get()) - 1 == 7);
    Merged m = merge(b.get());
    CHECK(m.types == 7);
    CHECK(m.raw == raw_of(b.get()));
  }
  SUBCASE("identical pointees") {
    BtfPtr b(btf__new_empty());
    int i = btf__add_int(b.get(), "int", 4, BTF_INT_SIGNED);
    add_outer(b.get(), i, 32);
    add_outer(b.get(), i, 32);
    CHECK(merge(b.get()).types == 4);
  }
  SUBCASE("a pointer to void and a pointer to a struct do not merge") {
    BtfPtr b(btf__new_empty());
    int s = btf__add_struct(b.get(), "s", 0);
    btf__add_ptr(b.get(), 0);
    btf__add_ptr(b.get(), s);
    btf__add_ptr(b.get(), 0);
    CHECK(merge(b.get()).types == 3);
  }
}

TEST_CASE("a kernel with every type two or three times minimizes to the single kernel's bytes") {
  const std::string fixture = env("BTFD_FIXTURE_KERNEL_BTF");
  const std::string bpf_dir = env("BTFD_BUILD_ROOT") + "/tests/bpf/";
  std::vector<uint8_t> single_raw = read_bytes(fixture);
  BtfPtr src(btf__new(single_raw.data(), static_cast<__u32>(single_raw.size())));
  REQUIRE(src);
  auto single = KernelBtf::parse(single_raw);
  REQUIRE_MESSAGE(single.ok(), (single.ok() ? std::string() : single.error().message));

  const std::vector<std::string> names{"sample", "kinds", "match_void_tm", "exists_void", "check_progs"};
  std::vector<std::vector<uint8_t>> objects;
  for (const auto& n : names) objects.push_back(read_bytes(bpf_dir + n + ".bpf.o"));

  for (int copies : {2, 3}) {
    CAPTURE(copies);
    BtfPtr dup(btf__new_empty());
    for (int c = 0; c < copies; ++c) REQUIRE(btf__add_btf(dup.get(), src.get()) > 0);
    REQUIRE(btf__type_cnt(dup.get()) - 1 == copies * (btf__type_cnt(src.get()) - 1));
    auto kernel = KernelBtf::parse(raw_of(dup.get()));
    REQUIRE_MESSAGE(kernel.ok(), (kernel.ok() ? std::string() : kernel.error().message));

    uint32_t minimized = 0, matched = 0;
    std::vector<ObjectInput> all;
    auto compare = [&](std::span<const ObjectInput> in, const std::string& what) {
      CAPTURE(what);
      auto one = minimize(**single, in);
      auto many = minimize(**kernel, in);
      REQUIRE(one.ok() == many.ok());
      if (!one.ok()) {
        // libbpf refuses the object on the full kernel (e.g. an ambiguity):
        // the same refusal for the same reason.
        CHECK(one.error().code == many.error().code);
        return;
      }
      ++minimized;
      INFO("single: " << one->types << " types, " << one->btf.size() << " bytes; x" << copies << ": "
                      << many->types << " types, " << many->btf.size() << " bytes");
      CHECK(many->types == one->types);
      CHECK(many->btf == one->btf);
      // Every candidate and every match exists `copies` times in the input, and
      // all matches are marked (marker rule 1): without the merge the output
      // would hold each kept type `copies` times.
      REQUIRE(many->relocs.size() == one->relocs.size());
      for (size_t r = 0; r < one->relocs.size(); ++r) {
        CHECK(many->relocs[r].candidates == copies * one->relocs[r].candidates);
        CHECK(many->relocs[r].matches == copies * one->relocs[r].matches);
        matched += one->relocs[r].matches;
      }
    };
    for (size_t o = 0; o < names.size(); ++o) {
      ObjectInput in{names[o] + ".bpf.o", objects[o]};
      compare(std::span(&in, 1), names[o]);
      all.push_back(in);
    }
    compare(all, "all objects at once");
    // The comparison must have had something to compare.
    CHECK(minimized >= 3);
    CHECK(matched > 10);
  }
}
