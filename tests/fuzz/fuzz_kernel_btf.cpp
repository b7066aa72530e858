// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: raw kernel BTF as the view and index read it in place (a
// cached blob is read this way, never copied through libbpf). Every question
// the CO-RE rules ask is asked of every type.
#include <cstdint>
#include <vector>

#include "btf/kernel_btf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto k = btfd::btf::KernelBtf::parse(std::vector<uint8_t>(data, data + size));
  if (!k) return 0;
  const btfd::btf::BtfView* v = (*k)->btf();
  for (uint32_t id = 0; id <= v->type_cnt(); ++id) {
    const struct btf_type* t = v->type_by_id(id);
    if (!t) continue;
    (void)v->resolve_size(id);
    if (const char* name = v->name_by_offset(t->name_off)) (void)(*k)->ids_with_essential_hash(name);
  }
  btfd::btf::KernelBtf::NameFilter only{"task_struct", "a"};
  (void)btfd::btf::KernelBtf::parse(std::vector<uint8_t>(data, data + size), &only);
  return 0;
}
