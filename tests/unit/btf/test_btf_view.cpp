// SPDX-License-Identifier: GPL-2.0-or-later
// The BTF view and writer, checked against libbpf itself: same records, names,
// sizes and pointer size as btf__* on real kernels' BTF; the same
// verdict on damaged input; output libbpf reads back.
#include <bpf/btf.h>
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "btf_raw.hpp"
#include "btf/btf_view.hpp"
#include "btf/btf_writer.hpp"
#include "btf/kernel_btf.hpp"
#include "btf/object_file.hpp"
#include "util/fd.hpp"

using namespace btfd;
using namespace btfd::btf;

namespace {
using btfd::test::raw_of;

// int, long, struct s { int a; long b; }, a flavored struct, a one-letter name
// with a flavor, an array and a pointer.
std::vector<uint8_t> small_btf() {
  BtfPtr b(btf__new_empty());
  int i = btf__add_int(b.get(), "int", 4, BTF_INT_SIGNED);
  int l = btf__add_int(b.get(), "long int", 8, BTF_INT_SIGNED);
  int s = btf__add_struct(b.get(), "s", 16);
  btf__add_field(b.get(), "a", i, 0, 0);
  btf__add_field(b.get(), "b", l, 64, 0);
  btf__add_struct(b.get(), "s___v2", 4);
  btf__add_struct(b.get(), "q___x", 4);
  btf__add_struct(b.get(), "sa", 4);
  int arr = btf__add_array(b.get(), i, s, 3);
  btf__add_ptr(b.get(), arr);
  return raw_of(b.get());
}

bool libbpf_accepts(const std::vector<uint8_t>& raw) {
  BtfPtr b(btf__new(raw.data(), static_cast<__u32>(raw.size())));
  return b != nullptr;
}
}  // namespace

namespace {
// One real kernel's BTF: every record, name, size and the pointer size as libbpf reads them.
void check_view_matches_libbpf(const std::string& path) {
  INFO("kernel BTF: ", path);
  auto bytes = read_file(path, 1ull << 30);
  REQUIRE(bytes.ok());
  BtfPtr lib(btf__new(bytes->data(), static_cast<__u32>(bytes->size())));
  REQUIRE(lib);
  auto v = BtfView::parse(*bytes);
  REQUIRE(v.ok());
  REQUIRE(v->type_cnt() == btf__type_cnt(lib.get()));
  CHECK(v->pointer_size() == static_cast<int>(btf__pointer_size(lib.get())));
  size_t differing = 0;
  for (uint32_t id = 0; id < v->type_cnt(); ++id) {
    const struct btf_type* a = v->type_by_id(id);
    const struct btf_type* b = btf__type_by_id(lib.get(), id);
    if (std::memcmp(a, b, sizeof(*a)) != 0 || std::strcmp(v->name_by_offset(a->name_off), btf__name_by_offset(lib.get(), b->name_off)) != 0 ||
        v->resolve_size(id) != btf__resolve_size(lib.get(), id))
      ++differing;
  }
  CHECK(differing == 0);
  CHECK(v->type_by_id(v->type_cnt()) == nullptr);
  CHECK(v->name_by_offset(0x7fffffff) == nullptr);
}
}  // namespace

// The fixture kernel (tests/data, unpacked by meson) exists on every host; this
// machine's own BTF is checked too when it has one.
TEST_CASE("the view answers as libbpf does on real kernels' BTF: the fixture kernel's and the running kernel's") {
  const char* fixture = std::getenv("BTFD_FIXTURE_KERNEL_BTF");
  REQUIRE_MESSAGE(fixture != nullptr, "BTFD_FIXTURE_KERNEL_BTF is set by tests/data/meson.build");
  check_view_matches_libbpf(fixture);
  if (::access("/sys/kernel/btf/vmlinux", R_OK) == 0) check_view_matches_libbpf("/sys/kernel/btf/vmlinux");
}

TEST_CASE("the view rejects damaged BTF wherever libbpf does") {
  const auto good = small_btf();
  REQUIRE(BtfView::parse(good).ok());
  struct btf_header hdr;
  std::memcpy(&hdr, good.data(), sizeof(hdr));
  auto with = [&](auto edit) {
    auto raw = good;
    edit(raw);
    return raw;
  };
  auto put_hdr = [](std::vector<uint8_t>& raw, const struct btf_header& h) { std::memcpy(raw.data(), &h, sizeof(h)); };
  std::vector<std::pair<const char*, std::vector<uint8_t>>> cases = {
      {"bad magic", with([](auto& r) { r.at(0) ^= 0xff; })},
      {"header only", with([](auto& r) { r.resize(sizeof(struct btf_header) - 1); })},
      {"strings past the end", with([&](auto& r) { auto h = hdr; h.str_len += 16; put_hdr(r, h); })},
      {"types overlap strings", with([&](auto& r) { auto h = hdr; h.type_len = h.str_off + 4; put_hdr(r, h); })},
      {"empty string table", with([&](auto& r) { auto h = hdr; h.str_len = 0; put_hdr(r, h); })},
      {"unterminated strings", with([](auto& r) { r.at(r.size() - 1) = 0x78; })},
      {"truncated type", with([&](auto& r) { auto h = hdr; h.type_len -= 4; h.str_off -= 4; h.str_len += 4; put_hdr(r, h); })},
      {"unknown kind", with([&](auto& r) {
         // The first record's info word: kind 31.
         uint32_t info = 31u << 24;
         std::memcpy(r.data() + hdr.hdr_len + hdr.type_off + 4, &info, 4);
       })},
  };
  for (auto& c : cases) {
    // Not a structured binding: clang 14 cannot capture one in INFO's lambda.
    const auto& what = c.first;
    const auto& raw = c.second;
    INFO(what);
    CHECK_FALSE(BtfView::parse(raw).ok());
    CHECK_FALSE(libbpf_accepts(raw));
  }
}

TEST_CASE("an index of a few names finds what the full index finds") {
  auto full = KernelBtf::parse(small_btf());
  KernelBtf::NameFilter only{"s", "q"};
  auto part = KernelBtf::parse(small_btf(), &only);
  REQUIRE(full.ok());
  REQUIRE(part.ok());
  for (const char* name : {"s", "q", "sa", "int", "long int", "nothing"}) {
    INFO(name);
    CHECK((*part)->ids_with_essential_hash(name) == (*full)->ids_with_essential_hash(name));
  }
  CHECK((*full)->ids_with_essential_hash("s").size() == 2);  // s and s___v2
  CHECK((*full)->ids_with_essential_hash("q").size() == 1);  // q___x
  CHECK((*part)->memory_bytes() < (*full)->memory_bytes());
}

TEST_CASE("a mapped kernel file reads as the same kernel") {
  auto raw = small_btf();
  char path[] = "/tmp/btfd-view-XXXXXX";
  UniqueFd fd(mkstemp(path));
  REQUIRE(fd);
  unlink(path);
  REQUIRE(write(fd.get(), raw.data(), raw.size()) == static_cast<ssize_t>(raw.size()));
  auto k = KernelBtf::load(fd.get(), 1 << 20);
  REQUIRE(k.ok());
  CHECK((*k)->btf()->raw().size() == raw.size());
  CHECK(std::memcmp((*k)->btf()->raw().data(), raw.data(), raw.size()) == 0);
  CHECK((*k)->ids_with_essential_hash("s").size() == 2);
  auto small = KernelBtf::load(fd.get(), 8);
  REQUIRE_FALSE(small.ok());
  CHECK(small.error().code == Errc::too_large);
}

TEST_CASE("the writer lays strings out like libbpf and libbpf reads its output") {
  BtfWriter w;
  CHECK(w.add_str("") == 0);
  uint32_t a = w.add_str("int");
  CHECK(a == 1);
  CHECK(w.add_str("x") == 5);
  CHECK(w.add_str("int") == a);
  uint32_t id = 0;
  auto* t = reinterpret_cast<struct btf_type*>(w.append(sizeof(struct btf_type) + 4, &id));
  CHECK(id == 1);
  t->name_off = a;
  t->info = BTF_KIND_INT << 24;
  t->size = 4;
  uint32_t enc = 32;  // 32 bits at offset 0, unsigned
  std::memcpy(t + 1, &enc, 4);
  auto raw = w.finish();
  BtfPtr lib(btf__new(raw.data(), static_cast<__u32>(raw.size())));
  REQUIRE(lib);
  CHECK(btf__type_cnt(lib.get()) == 2);
  CHECK(std::string(btf__name_by_offset(lib.get(), btf__type_by_id(lib.get(), 1)->name_off)) == "int");
  BtfPtr ref(btf__new_empty());
  btf__add_str(ref.get(), "int");
  btf__add_str(ref.get(), "x");
  btf__add_int(ref.get(), "int", 4, 0);
  CHECK(raw_of(ref.get()) == raw);
}
