// SPDX-License-Identifier: GPL-2.0-or-later
// The marker walks chains of any depth to their end: a hostile (or just deep)
// kernel BTF is minimized completely, never cut off silently.
#include <doctest/doctest.h>

#include <bpf/btf.h>

#include <memory>
#include <vector>

#include "btf/btf_view.hpp"
#include "btf/marker.hpp"

using namespace btfd;
using namespace btfd::btf;

namespace {

std::vector<uint8_t> raw_of(struct btf* b) {
  __u32 size = 0;
  auto* d = static_cast<const uint8_t*>(btf__raw_data(b, &size));
  return {d, d + size};
}

}  // namespace

TEST_CASE("a chain far deeper than any recursion limit is marked to its end") {
  std::unique_ptr<struct btf, decltype(&btf__free)> b(btf__new_empty(), btf__free);
  const int i = btf__add_int(b.get(), "int", 4, BTF_INT_SIGNED);
  // [2] const -> [3] const -> ... -> [kDeep + 1] const -> int, then a pointer
  // into the middle of the chain, walked first.
  constexpr int kDeep = 100000;
  const int first = static_cast<int>(btf__type_cnt(b.get()));
  for (int k = 0; k < kDeep; ++k) REQUIRE(btf__add_const(b.get(), k == kDeep - 1 ? i : first + k + 1) == first + k);
  const int mid = first + 100;
  const int ptr = btf__add_ptr(b.get(), mid);
  auto raw = raw_of(b.get());
  auto view = BtfView::parse(raw);
  REQUIRE(view.ok());
  Marker m(&*view);
  m.mark(ptr, true);  // reaches the middle first, at depth 1
  CHECK(m.marked(mid));
  CHECK(m.marked(i));
  m.mark(first, false);  // then the whole chain from its start
  for (int k = 0; k < kDeep; ++k) {
    if (!m.marked(first + k)) {
      FAIL_CHECK("const [", first + k, "] is not marked");
      break;
    }
  }
  CHECK(m.marked(i));
}

TEST_CASE("TYPE_MATCHES marks every member of structs nested far deeper than any recursion limit") {
  std::unique_ptr<struct btf, decltype(&btf__free)> b(btf__new_empty(), btf__free);
  const int i = btf__add_int(b.get(), "int", 4, BTF_INT_SIGNED);
  constexpr int kNest = 20000;
  const int first = static_cast<int>(btf__type_cnt(b.get()));
  for (int k = 0; k < kNest; ++k) {
    REQUIRE(btf__add_struct(b.get(), "", 8) == first + k);
    REQUIRE(btf__add_field(b.get(), "x", i, 0, 0) == 0);
    REQUIRE(btf__add_field(b.get(), "in", k == kNest - 1 ? i : first + k + 1, 32, 0) == 0);
  }
  auto raw = raw_of(b.get());
  auto view = BtfView::parse(raw);
  REQUIRE(view.ok());
  Marker m(&*view);
  m.mark_match(first, false);
  int unmarked = 0;
  for (int k = 0; k < kNest; ++k)
    unmarked += !(m.marked(first + k) && m.member_marked(static_cast<uint32_t>(first + k), 0) &&
                  m.member_marked(static_cast<uint32_t>(first + k), 1));
  CHECK(unmarked == 0);
}
