// SPDX-License-Identifier: GPL-2.0-or-later
#include "btf/kernel_btf.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <numeric>

#include "btf/core_rules.hpp"

namespace btfd::btf {

uint32_t name_hash(std::string_view s) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

uint32_t essential_name_hash(const char* name) {
  uint32_t h = 2166136261u, at_flavor = 0;
  bool flavored = false;
  for (size_t i = 0; name[i]; ++i) {
    // The last "X___Y" (X, Y not '_') ends the essential name right after X.
    if (i > 0 && name[i] == '_' && name[i - 1] != '_' && name[i + 1] == '_' && name[i + 2] == '_' &&
        name[i + 3] != '_' && name[i + 3] != '\0') {
      at_flavor = h;
      flavored = true;
    }
    h = (h ^ static_cast<unsigned char>(name[i])) * 16777619u;
  }
  return flavored ? at_flavor : h;
}

Result<std::shared_ptr<const KernelBtf>> KernelBtf::parse(std::vector<uint8_t> raw) {
  if (raw.size() < 24) return make_error(Errc::corrupt, "kernel BTF is too short");
  uint16_t magic;
  std::memcpy(&magic, raw.data(), 2);
  if (magic == 0x9FEB) return make_error(Errc::unsupported, "kernel BTF has the other byte order");
  auto k = std::shared_ptr<KernelBtf>(new KernelBtf());
  k->raw_ = std::move(raw);
  auto view = BtfView::parse(k->raw_);
  if (!view) return std::move(view).error().wrap("kernel BTF");
  k->view_ = std::move(view).value();
  const BtfView& v = k->view_;
  uint32_t n = v.type_cnt();
  auto& keys = k->keys_;
  keys.reserve(n / 2);
  for (uint32_t id = 1; id < n; ++id) {
    const struct btf_type* t = v.type_at(id);
    if (!t->name_off) continue;
    const char* name = v.name_by_offset(t->name_off);
    if (!name || !*name) continue;
    keys.push_back(uint64_t{essential_name_hash(name)} << 32 | id);
  }
  std::sort(keys.begin(), keys.end());
  keys.shrink_to_fit();
  k->memory_bytes_ = k->raw_.size() + n * sizeof(uint32_t) + keys.size() * sizeof(uint64_t);
  return std::shared_ptr<const KernelBtf>(std::move(k));
}

std::vector<uint32_t> KernelBtf::ids_with_essential_hash(std::string_view essential) const {
  uint64_t h = uint64_t{name_hash(essential)} << 32;
  std::vector<uint32_t> ids;
  for (auto it = std::lower_bound(keys_.begin(), keys_.end(), h); it != keys_.end() && (*it & ~0xffffffffull) == h; ++it)
    ids.push_back(static_cast<uint32_t>(*it));
  return ids;
}

}  // namespace btfd::btf
