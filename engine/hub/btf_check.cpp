// SPDX-License-Identifier: GPL-2.0-or-later
#include "hub/btf_check.hpp"

#include <linux/btf.h>
#include <sys/mman.h>

#include <cstring>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>

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

namespace {

// A mapping that is unmapped however the check ends.
struct Mapping {
  void* p = MAP_FAILED;
  size_t n = 0;
  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (p != MAP_FAILED) ::munmap(p, n);
  }
};

// The file's bytes in a private copy.
Status read_copy(int fd, size_t size, Mapping* m) {
  m->p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  m->n = size;
  if (m->p == MAP_FAILED) return sys_error(errno, "cannot map " + std::to_string(size) + " bytes to check a BTF");
  auto* buf = static_cast<uint8_t*>(m->p);
  size_t got = 0;
  while (got < size) {
    ssize_t n = ::pread(fd, buf + got, size - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(errno, "cannot read a BTF to check it");
    if (n == 0) return make_error(Errc::corrupt, "BTF shrank while it was read");
    got += static_cast<size_t>(n);
  }
  // A file that grew meanwhile is not the file that was measured.
  char extra;
  if (::pread(fd, &extra, 1, static_cast<off_t>(size)) != 0)
    return make_error(Errc::corrupt, "BTF grew while it was read");
  return {};
}

// The file's own pages (in the page cache: written moments ago), mapped
// together in one call; false when the file cannot be mapped.
bool map_in_place(int fd, size_t size, Mapping* m) {
  m->p = ::mmap(nullptr, size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
  m->n = size;
  return m->p != MAP_FAILED;
}

}  // namespace

Result<Digest> check_kernel_btf_fd_digest(int fd, uint64_t max_bytes, Snapshot how) {
  BTFD_TRY(uint64_t size, file_size(fd));
  if (size == 0) return make_error(Errc::corrupt, "BTF is empty");
  if (size > max_bytes)
    return make_error(Errc::too_large, "BTF is " + std::to_string(size) + " bytes, more than the " +
                                          std::to_string(max_bytes) + " a kernel's BTF may have");
  Mapping m;
  // A file system that cannot map files (some FUSE ones) still gets its BTF
  // checked: through the copy.
  if (how == Snapshot::in_place && !map_in_place(fd, size, &m)) how = Snapshot::copy;
  if (how == Snapshot::copy) BTFD_TRY_VOID(read_copy(fd, size, &m));
  const auto* buf = static_cast<const uint8_t*>(m.p);
  std::span<const uint8_t> raw(buf, size);
  // Hashing (libcrypto: ~0.6 ns a byte with the CPU's SHA extensions, ~2
  // without) and the validation take the same order of time and read the
  // same bytes, which nothing changes meanwhile: on two threads, the check
  // costs the longer of the two, not their sum.
  Digest digest{};
  std::optional<std::thread> hasher;
  try {
    hasher.emplace([&digest, raw] { digest = sha256(raw); });
  } catch (const std::system_error&) {
    // No thread to be had: hashed below, after the check.
  }
  Status st = check_kernel_btf(raw, max_bytes);
  if (hasher) hasher->join();
  BTFD_TRY_VOID(std::move(st));
  if (!hasher) digest = sha256(raw);
  // Cheap insurance for the in-place read's premise: a file whose size
  // changed was written by someone meanwhile.
  if (how == Snapshot::in_place) {
    BTFD_TRY(uint64_t after, file_size(fd));
    if (after != size) return make_error(Errc::corrupt, "BTF changed size while it was checked");
  }
  return digest;
}

}  // namespace btfd::hub
