// SPDX-License-Identifier: GPL-2.0-or-later
#include "hub/btf_check.hpp"

#include <bpf/btf.h>
#include <linux/btf.h>

#include <cstring>

#include "util/fd.hpp"

namespace btfd::hub {

Status check_kernel_btf(std::span<const uint8_t> raw) {
  if (raw.empty()) return make_error(Errc::corrupt, "BTF is empty");
  if (raw.size() < sizeof(btf_header)) return make_error(Errc::corrupt, "BTF is shorter than its header");
  uint16_t magic = 0;
  std::memcpy(&magic, raw.data(), sizeof magic);
  if (magic == __builtin_bswap16(BTF_MAGIC))
    return make_error(Errc::unsupported, "BTF is in the other byte order than this host");
  if (magic != BTF_MAGIC) return make_error(Errc::corrupt, "not raw BTF (bad magic)");
  struct btf* btf = btf__new(raw.data(), static_cast<__u32>(raw.size()));
  if (!btf) return make_error(Errc::corrupt, "libbpf rejects the BTF: " + std::string(std::strerror(errno)));
  Status st;
  if (btf__type_cnt(btf) < 2) st = make_error(Errc::corrupt, "BTF has no types");
  else if (btf__find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT) < 0)
    st = make_error(Errc::corrupt, "BTF has no struct task_struct: not a kernel BTF");
  btf__free(btf);
  return st;
}

Status check_kernel_btf_fd(int fd, uint64_t max_bytes) {
  BTFD_TRY(auto bytes, pread_all(fd, max_bytes));
  return check_kernel_btf(bytes);
}

}  // namespace btfd::hub
