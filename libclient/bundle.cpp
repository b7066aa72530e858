// SPDX-License-Identifier: LGPL-2.1-or-later
// btfd_bundle_find(): a kernel's BTF from a bundle (docs/bundle.md) without
// btfd, through the same reader btfd's import uses (common/bundle). Only
// the header, the index and the one BTF are read (pread: no mapping a shrinking
// file could fault), each checked against its SHA-256.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "btfd/libbtfd.h"
#include "bundle/bundle_reader.hpp"
#include "kernel/distro_map.hpp"
#include "kernel/identity.hpp"
#include "util/fd.hpp"
#include "util/sha256.hpp"

#define BTFD_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

int from_bundle_error(const btfd::Error& e) {
  if (e.code == btfd::Errc::corrupt || e.code == btfd::Errc::unsupported || e.code == btfd::Errc::too_large)
    return BTFD_ERR_INVALID_BUNDLE;
  if (e.sys_errno) return -e.sys_errno;
  return BTFD_ERR_INVALID_BUNDLE;
}

// The kernel asked for, completed with this host's identity and mapped to the
// archive's names as btfd maps it (rhel 8.4 -> rhel/8).
int resolve_kernel(const struct btfd_kernel* k, btfd::KernelIdentity* id, bool* exact) {
  bool complete = k && k->distro && k->version && k->arch && k->release;
  if (!complete) {
    auto host = btfd::detect_host();
    if (!host) return host.error().sys_errno ? -host.error().sys_errno : BTFD_ERR_INVALID_KERNEL;
    *id = host->identity;
  }
  if (k) {
    if (k->distro) id->distro_id = k->distro;
    if (k->version) id->distro_version = k->version;
    if (k->arch) id->arch = k->arch;
    if (k->release) id->release = k->release;
  }
  if (!btfd::validate_identity(*id)) return BTFD_ERR_INVALID_KERNEL;
  auto key = btfd::DistroMap::builtin().resolve(*id);
  if (key) {
    *exact = key->exact;
    *id = key->kernel;
  }
  return 0;
}

}  // namespace

BTFD_EXPORT int btfd_bundle_find(const char* bundle_path, const struct btfd_kernel* kernel,
                                 struct btfd_result* result) try {
  if (!bundle_path || !result) return -EINVAL;
  std::memset(result, 0, sizeof *result);
  result->fd = -1;
  btfd::KernelIdentity id;
  bool exact = true;
  if (int err = resolve_kernel(kernel, &id, &exact)) return err;
  // O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer; only
  // a regular file is read, and only once that is known, in blocking mode.
  auto fd = btfd::open_file(bundle_path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!fd) return fd.error().sys_errno ? -fd.error().sys_errno : -EIO;
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0) return -errno;
  if (!S_ISREG(st.st_mode)) return BTFD_ERR_INVALID_BUNDLE;
  if (int fl = ::fcntl(fd->get(), F_GETFL); fl < 0 || ::fcntl(fd->get(), F_SETFL, fl & ~O_NONBLOCK) < 0) return -errno;
  uint64_t size = static_cast<uint64_t>(st.st_size);
  auto prefix = btfd::bundle::read_index(fd->get(), size);
  if (!prefix) return from_bundle_error(prefix.error());
  auto view = btfd::bundle::BundleView::parse_index(*prefix, size);
  if (!view) return from_bundle_error(view.error());
  auto found = view->find({id.distro_id, id.distro_version, id.arch, id.release});
  if (!found) return BTFD_ERR_NOT_IN_BUNDLE;
  auto btf = btfd::bundle::read_blob(fd->get(), *view, view->kernel_blob(*found));
  if (!btf) return from_bundle_error(btf.error());
  btfd::UniqueFd mem(::memfd_create("btfd-bundle-btf", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!mem) return -errno;
  if (auto st2 = btfd::write_all(mem.get(), *btf); !st2) return st2.error().sys_errno ? -st2.error().sys_errno : -EIO;
  if (::fcntl(mem.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) return -errno;
  if (::lseek(mem.get(), 0, SEEK_SET) < 0) return -errno;
  result->fd = mem.release();
  std::snprintf(result->path, sizeof result->path, "/proc/self/fd/%d", result->fd);
  std::snprintf(result->sha256, sizeof result->sha256, "%s", btfd::to_hex(btfd::sha256(*btf)).c_str());
  result->size = btf->size();
  std::snprintf(result->source, sizeof result->source, "bundle");
  result->cached = 1;
  result->exact = exact;
  result->minimized = 1;
  return 0;
} catch (...) {
  return -ENOMEM;
}
