// SPDX-License-Identifier: GPL-2.0-or-later
#include "hub/btf_check.hpp"

#include <linux/btf.h>

#include <cstring>
#include <string_view>

#include "btf/btf_validate.hpp"
#include "util/fd.hpp"

namespace btfd::hub {

Status check_kernel_btf(std::span<const uint8_t> raw, uint64_t max_bytes) {
  if (raw.empty()) return make_error(Errc::corrupt, "BTF is empty");
  if (raw.size() > max_bytes)
    return make_error(Errc::too_large, "BTF is " + std::to_string(raw.size()) + " bytes, more than the " +
                                          std::to_string(max_bytes) + " a kernel's BTF may have");
  if (raw.size() < sizeof(btf_header)) return make_error(Errc::corrupt, "BTF is shorter than its header");
  uint16_t magic = 0;
  std::memcpy(&magic, raw.data(), sizeof magic);
  if (magic == __builtin_bswap16(BTF_MAGIC))
    return make_error(Errc::unsupported, "BTF is in the other byte order than this host");
  if (magic != BTF_MAGIC) return make_error(Errc::corrupt, "not raw BTF (bad magic)");
  // The same validation the daemon's view runs when it maps the kernel again;
  // failing here keeps a bad kernel out of the store.
  BTFD_TRY(btf::BtfLayout layout, btf::validate_btf(raw));
  if (layout.offsets.size() < 2) return make_error(Errc::corrupt, "BTF has no types");
  for (size_t id = 1; id < layout.offsets.size(); ++id) {
    const auto* t = reinterpret_cast<const struct btf_type*>(layout.types + layout.offsets[id]);
    if (btf_is_struct(t) && std::string_view(layout.strs + t->name_off) == "task_struct") return {};
  }
  return make_error(Errc::corrupt, "BTF has no struct task_struct: not a kernel BTF");
}

Status check_kernel_btf_fd(int fd, uint64_t max_bytes) {
  BTFD_TRY(auto bytes, pread_all(fd, max_bytes));
  return check_kernel_btf(bytes, max_bytes);
}

}  // namespace btfd::hub
