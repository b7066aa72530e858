// SPDX-License-Identifier: GPL-2.0-or-later
#include "btf/kernel_btf.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <numeric>

#include <sys/mman.h>
#include <sys/stat.h>

#include "btf/core_rules.hpp"
#include "util/fd.hpp"

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

KernelBtf::~KernelBtf() {
  if (map_) munmap(map_, map_len_);
}

Result<std::shared_ptr<const KernelBtf>> KernelBtf::parse(std::vector<uint8_t> raw, const NameFilter* only) {
  auto k = std::shared_ptr<KernelBtf>(new KernelBtf());
  k->raw_ = std::move(raw);
  std::span<const uint8_t> bytes = k->raw_;  // before k is moved from: argument order is unspecified
  return index(std::move(k), bytes, only);
}

Result<std::shared_ptr<const KernelBtf>> KernelBtf::load(int fd, size_t max_bytes, const NameFilter* only) {
  struct stat st;
  if (fstat(fd, &st) != 0) return sys_error(errno, "cannot stat kernel BTF");
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    if (static_cast<uint64_t>(st.st_size) > max_bytes) return make_error(Errc::too_large, "kernel BTF is too large");
    size_t len = static_cast<size_t>(st.st_size);
    // Populating up front costs one fault-in pass instead of one fault per page.
    void* p = mmap(nullptr, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (p != MAP_FAILED) {
      auto k = std::shared_ptr<KernelBtf>(new KernelBtf());
      k->map_ = p;
      k->map_len_ = len;
      return index(std::move(k), std::span<const uint8_t>(static_cast<const uint8_t*>(p), len), only);
    }
  }
  BTFD_TRY(auto bytes, pread_all(fd, max_bytes));
  return parse(std::move(bytes), only);
}

Result<std::shared_ptr<const KernelBtf>> KernelBtf::index(std::shared_ptr<KernelBtf> k, std::span<const uint8_t> raw,
                                                          const NameFilter* only) {
  if (raw.size() < 24) return make_error(Errc::corrupt, "kernel BTF is too short");
  uint16_t magic;
  std::memcpy(&magic, raw.data(), 2);
  if (magic == 0x9FEB) return make_error(Errc::unsupported, "kernel BTF has the other byte order");
  auto view = BtfView::parse(raw);
  if (!view) return std::move(view).error().wrap("kernel BTF");
  k->view_ = std::move(view).value();
  const BtfView& v = k->view_;
  // With a filter, a name is hashed only when its first two bytes could begin a
  // wanted name: an essential name is a prefix of the full name, and a one-byte
  // essential name is followed by its "___flavor".
  std::vector<bool> first_two;
  if (only) {
    k->partial_ = true;
    first_two.assign(1 << 16, false);
    for (const auto& n : *only) {
      if (n.empty()) continue;
      auto c0 = static_cast<unsigned char>(n[0]);
      first_two[c0 << 8 | static_cast<unsigned char>(n.size() > 1 ? n[1] : '\0')] = true;
      if (n.size() == 1) first_two[c0 << 8 | '_'] = true;
      k->indexed_.push_back(name_hash(n));
    }
    std::sort(k->indexed_.begin(), k->indexed_.end());
  }
  uint32_t n = v.type_cnt();
  auto& keys = k->keys_;
  if (!only) keys.reserve(n / 2);
  for (uint32_t id = 1; id < n; ++id) {
    const struct btf_type* t = v.type_at(id);
    if (!t->name_off) continue;
    const char* name = v.name_by_offset(t->name_off);
    if (!name || !*name) continue;
    if (only && !first_two[static_cast<unsigned char>(name[0]) << 8 | static_cast<unsigned char>(name[1])]) continue;
    uint32_t h = essential_name_hash(name);
    if (only && !std::binary_search(k->indexed_.begin(), k->indexed_.end(), h)) continue;
    keys.push_back(uint64_t{h} << 32 | id);
  }
  std::sort(keys.begin(), keys.end());
  keys.shrink_to_fit();
  k->memory_bytes_ = raw.size() + n * sizeof(uint32_t) + keys.size() * sizeof(uint64_t);
  return std::shared_ptr<const KernelBtf>(std::move(k));
}

std::vector<uint32_t> KernelBtf::ids_with_essential_hash(std::string_view essential) const {
  uint32_t h32 = name_hash(essential);
  std::vector<uint32_t> ids;
  if (partial_ && !std::binary_search(indexed_.begin(), indexed_.end(), h32)) {
    for (uint32_t id = 1; id < view_.type_cnt(); ++id) {
      const char* name = view_.name_by_offset(view_.type_at(id)->name_off);
      if (name && *name && essential_name_hash(name) == h32) ids.push_back(id);
    }
    return ids;
  }
  uint64_t h = uint64_t{h32} << 32;
  for (auto it = std::lower_bound(keys_.begin(), keys_.end(), h); it != keys_.end() && (*it & ~0xffffffffull) == h; ++it)
    ids.push_back(static_cast<uint32_t>(*it));
  return ids;
}

}  // namespace btfd::btf
