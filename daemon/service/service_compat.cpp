// SPDX-License-Identifier: GPL-2.0-or-later
// GetBtf's "compat": the BTF served, full or minimized, rewritten for a
// reader older than the kernel (engine/btf/btf_compat.hpp). Done per call on
// the worker that answers it, not stored: it is one linear pass over bytes
// the cache already holds (a 5 MB kernel: milliseconds, see
// docs/protocol.md), and a stored copy per level would multiply the cache's
// biggest entries for no saving a client could notice.
#include <sys/mman.h>

#include <fcntl.h>
#include <unistd.h>

#include "service/service.hpp"
#include "util/sha256.hpp"

namespace btfd::server {

Result<BtfAnswer> compat_answer(BtfAnswer a, const btf::CompatLevel& level) {
  // The blob is a verified cache file or a sealed memfd btfd made: its size is known.
  BTFD_TRY(std::vector<uint8_t> bytes, pread_all(a.blob.fd.get(), a.blob.size));
  BTFD_TRY(std::vector<uint8_t> out, btf::rewrite_for_level(bytes, level));
  bytes = {};
  UniqueFd mem(::memfd_create("btfd-compat-btf", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!mem) return sys_error(errno, "memfd_create");
  BTFD_TRY_VOID(write_all(mem.get(), std::span<const uint8_t>(out)));
  if (::fcntl(mem.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
    return sys_error(errno, "sealing a memfd");
  a.blob.fd = std::move(mem);
  a.blob.path.clear();
  a.blob.digest = sha256(out);
  a.blob.size = out.size();
  a.compat = level.name;
  return a;
}

}  // namespace btfd::server
