// SPDX-License-Identifier: GPL-2.0-or-later
// Disk full and read-only cache dirs, on a real small tmpfs (needs root to mount;
// exits 77 otherwise): writes fail cleanly, old entries survive and are served,
// eviction frees room.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "store/store.hpp"
#include "support/temp_dir.hpp"

using namespace btfd;

#define FAIL(...)                      \
  do {                                 \
    std::fprintf(stderr, __VA_ARGS__); \
    std::fputc('\n', stderr);          \
    rc = 1;                            \
    goto out;                          \
  } while (0)

static KernelIdentity kid(int i) { return {"full", "1", "x86_64", "r" + std::to_string(i)}; }

int main() {
  test::TempDir tmp;
  std::string mnt = tmp / "cache";
  if (mkdir(mnt.c_str(), 0755) < 0) return 1;
  if (geteuid() != 0) {
    std::printf("SKIP: not root (mounting a small tmpfs)\n");
    return 77;
  }
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=3m") < 0) {
    std::printf("FAIL: cannot mount a tmpfs as root: %s\n", std::strerror(errno));
    return 1;
  }
  int rc = 0;
  {
    auto s = store::Store::open({mnt, 1ull << 40});
    if (!s) FAIL("open: %s", s.error().message.c_str());
    std::vector<uint8_t> blob(256 * 1024);
    int stored = 0;
    Error last;
    for (int i = 0; i < 64; ++i) {
      blob[0] = static_cast<uint8_t>(i);
      auto e = (*s)->put_kernel(kid(i), blob, store::Source::file, "", false);
      if (!e) {
        last = e.error();
        break;
      }
      ++stored;
    }
    if (stored == 64) FAIL("a 3 MiB tmpfs took 16 MiB of blobs");
    if (last.code != Errc::no_space) FAIL("expected no-space, got %s: %s", errc_name(last.code), last.message.c_str());
    std::printf("disk full after %d entries: %s\n", stored, last.message.c_str());
    for (int i = 0; i < stored; ++i) {
      auto hit = (*s)->find_kernel(kid(i));
      if (!hit || !hit->has_value()) FAIL("entry %d lost after ENOSPC", i);
    }
    // The failed entry is absent, and no temp file is left.
    auto failed = (*s)->find_kernel(kid(stored));
    if (!failed || failed->has_value()) FAIL("the failed entry was half-committed");
    if (!(*s)->list() || (*s)->usage().kernels != static_cast<uint64_t>(stored)) FAIL("row count changed");
    auto gc = (*s)->gc(512 * 1024);
    if (!gc || gc->freed_bytes == 0) FAIL("gc freed nothing");
    blob[0] = 200;
    auto again = (*s)->put_kernel(kid(200), blob, store::Source::file, "", false);
    if (!again) FAIL("write after eviction: %s", again.error().message.c_str());

    // Now the blob directory goes read-only under a running store (a read-only
    // bind mount over it: the index stays open, as in a daemon whose disk flips ro).
    std::string blobs = mnt + "/blobs";
    if (mount(blobs.c_str(), blobs.c_str(), nullptr, MS_BIND, nullptr) < 0 ||
        mount(nullptr, blobs.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) < 0)
      FAIL("read-only bind mount: %s", std::strerror(errno));
    blob[0] = 201;
    auto ro = (*s)->put_kernel(kid(201), blob, store::Source::file, "", false);
    if (ro) FAIL("write to a read-only cache succeeded");
    if (ro.error().code != Errc::permission) FAIL("expected permission, got %s: %s", errc_name(ro.error().code), ro.error().message.c_str());
    auto still = (*s)->find_kernel(kid(200));
    if (!still || !still->has_value()) FAIL("read-only cache stopped serving");
    std::printf("read-only: %s\n", ro.error().message.c_str());
  }
out:
  umount2((mnt + "/blobs").c_str(), MNT_DETACH);
  umount2(mnt.c_str(), MNT_DETACH);
  return rc;
}
