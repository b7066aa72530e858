// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// A small, valid raw BTF built by libbpf for the transparent tests: int, a
// struct using it (named as asked, 8 bytes), a pointer to the struct.
#include <bpf/btf.h>
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

namespace btfd::test {

inline std::vector<uint8_t> small_btf(const char* struct_name = "task_struct") {
  struct btf* b = btf__new_empty();
  REQUIRE(b);
  int i = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
  int s = btf__add_struct(b, struct_name, 8);
  REQUIRE(btf__add_field(b, "pid", i, 0, 0) == 0);
  REQUIRE(btf__add_field(b, "tgid", i, 32, 0) == 0);
  REQUIRE(btf__add_ptr(b, s) > 0);
  uint32_t size = 0;
  const void* raw = btf__raw_data(b, &size);
  std::vector<uint8_t> out(static_cast<const uint8_t*>(raw), static_cast<const uint8_t*>(raw) + size);
  btf__free(b);
  return out;
}

}  // namespace btfd::test
