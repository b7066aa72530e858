// SPDX-License-Identifier: GPL-2.0-or-later
#include "btf/kernel_btf.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <numeric>

#include "btf/core_rules.hpp"

namespace btfd::btf {

uint64_t name_hash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

Result<std::shared_ptr<const KernelBtf>> KernelBtf::parse(std::span<const uint8_t> raw) {
  if (raw.size() < 24) return make_error(Errc::corrupt, "kernel BTF is too short");
  uint16_t magic;
  std::memcpy(&magic, raw.data(), 2);
  if (magic == 0x9FEB) return make_error(Errc::unsupported, "kernel BTF has the other byte order");
  if (magic != 0xEB9F) return make_error(Errc::corrupt, "not raw BTF (bad magic)");
  auto k = std::shared_ptr<KernelBtf>(new KernelBtf());
  k->btf_.reset(btf__new(raw.data(), static_cast<__u32>(raw.size())));
  if (!k->btf_) return make_error(Errc::corrupt, std::string("libbpf rejects the kernel BTF: ") + std::strerror(errno));
  uint32_t n = btf__type_cnt(k->btf_.get());
  std::vector<std::pair<uint64_t, uint32_t>> idx;
  idx.reserve(n / 2);
  for (uint32_t id = 1; id < n; ++id) {
    const struct btf_type* t = btf__type_by_id(k->btf_.get(), id);
    if (!t->name_off) continue;
    const char* name = btf__name_by_offset(k->btf_.get(), t->name_off);
    if (!name || !*name) continue;
    idx.emplace_back(name_hash(essential_name(name)), id);
  }
  std::sort(idx.begin(), idx.end());
  k->hashes_.reserve(idx.size());
  k->ids_.reserve(idx.size());
  for (auto& [h, id] : idx) {
    k->hashes_.push_back(h);
    k->ids_.push_back(id);
  }
  k->memory_bytes_ = raw.size() + n * sizeof(uint32_t) + idx.size() * (sizeof(uint64_t) + sizeof(uint32_t));
  return std::shared_ptr<const KernelBtf>(std::move(k));
}

std::span<const uint32_t> KernelBtf::ids_with_essential_hash(std::string_view essential) const {
  uint64_t h = name_hash(essential);
  auto [lo, hi] = std::equal_range(hashes_.begin(), hashes_.end(), h);
  return std::span<const uint32_t>(ids_.data() + (lo - hashes_.begin()), static_cast<size_t>(hi - lo));
}

}  // namespace btfd::btf
