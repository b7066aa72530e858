// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: the whole minimizer on a hostile kernel and a hostile
// object at once. Input: two little-endian u32 lengths, then the kernel's raw
// BTF, the object's .BTF, and the rest as its .BTF.ext; the two sections are
// wrapped in a BPF ELF (so mutations reach the BTF, not the ELF framing).
// A kernel length of 0 makes the object's .BTF the kernel too: a mutation then
// changes both sides alike and survives validation far more often, so the
// matching rules get explored, not only the validation. Seed it with real
// objects' sections.
// Invariants beyond "no crash": the report dumps as strict JSON, and what
// minimize() emits passes the same validation as its inputs.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../unit/btf/bpf_elf.hpp"
#include "btf/btf_view.hpp"
#include "btf/kernel_btf.hpp"
#include "btf/minimizer.hpp"

namespace {
uint32_t read_len(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  size_t kernel_len = read_len(data), btf_len = read_len(data + 4);
  std::span<const uint8_t> rest(data + 8, size - 8);
  if (kernel_len > rest.size()) kernel_len = rest.size();
  std::vector<uint8_t> kernel(rest.begin(), rest.begin() + static_cast<ptrdiff_t>(kernel_len));
  rest = rest.subspan(kernel_len);
  if (btf_len > rest.size()) btf_len = rest.size();
  auto object = btfd::test::bpf_object(rest.first(btf_len), rest.subspan(btf_len));
  if (kernel.empty()) kernel.assign(rest.begin(), rest.begin() + static_cast<ptrdiff_t>(btf_len));

  btfd::btf::ObjectInput in{"fuzz.o", object};
  std::span<const btfd::btf::ObjectInput> objects(&in, 1);
  auto names = btfd::btf::lookup_names(objects);
  // Both index shapes: the daemon's full one and a one-shot run's filtered one.
  for (int filtered = 0; filtered < 2; ++filtered) {
    auto k = btfd::btf::KernelBtf::parse(kernel, filtered && names ? &*names : nullptr);
    if (!k) return 0;
    auto r = btfd::btf::minimize(**k, objects);
    if (!r) continue;
    (void)btfd::btf::report_to_json(r->relocs).dump();  // throws (and so aborts) on invalid UTF-8
    if (!btfd::btf::BtfView::parse(r->btf)) std::abort();
  }
  return 0;
}
