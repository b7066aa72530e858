// SPDX-License-Identifier: GPL-2.0-or-later
#include "debuginfo/split_btf.hpp"

#include <linux/btf.h>

#include <cstring>

#include "btf/btf_validate.hpp"

namespace btfd::debuginfo {

Result<std::vector<uint8_t>> join_split(std::span<const uint8_t> base, std::span<const uint8_t> split) {
  // check_header wants 4-byte aligned bytes: vectors and mappings are.
  BTFD_TRY(btf::BtfLayout b, btf::validate_detail::check_header(base));
  auto s = btf::validate_detail::check_header(split);
  if (!s) return std::move(s).error().wrap("split BTF");
  struct btf_header hdr {};
  hdr.magic = BTF_MAGIC;
  hdr.version = BTF_VERSION;
  hdr.hdr_len = sizeof hdr;
  const uint64_t type_len = uint64_t{b.type_len} + s->type_len;
  const uint64_t str_len = uint64_t{b.str_len} + s->str_len;
  if (type_len + str_len > 0x7fffffffu) return make_error(Errc::too_large, "base and split BTF together are too large");
  hdr.type_off = 0;
  hdr.type_len = static_cast<uint32_t>(type_len);
  hdr.str_off = hdr.type_len;
  hdr.str_len = static_cast<uint32_t>(str_len);
  std::vector<uint8_t> out(sizeof hdr + type_len + str_len);
  uint8_t* p = out.data();
  std::memcpy(p, &hdr, sizeof hdr);
  p += sizeof hdr;
  std::memcpy(p, b.types, b.type_len);
  p += b.type_len;
  std::memcpy(p, s->types, s->type_len);
  p += s->type_len;
  std::memcpy(p, b.strs, b.str_len);
  p += b.str_len;
  std::memcpy(p, s->strs, s->str_len);
  return out;
}

Status check_split_btf(std::span<const uint8_t> base, std::span<const uint8_t> split, uint64_t max_bytes) {
  if (split.size() > max_bytes)
    return make_error(Errc::too_large, "split BTF is " + std::to_string(split.size()) + " bytes, more than " +
                                           std::to_string(max_bytes));
  BTFD_TRY(auto joined, join_split(base, split));
  auto v = btf::validate_btf(joined);
  if (!v) return std::move(v).error().wrap("split BTF over its kernel's");
  return {};
}

}  // namespace btfd::debuginfo
