// SPDX-License-Identifier: GPL-2.0-or-later
// Disk full and read-only cache dirs, on a real small tmpfs (needs root to mount;
// exits 77 otherwise): writes fail cleanly as no-space naming the cache
// directory (blob writes and index writes alike), old entries survive and are
// served, eviction frees room.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

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

// The no-space error names the cache directory as full, whatever write met it.
static bool names_full_dir(const Error& e, const std::string& dir) {
  return e.code == Errc::no_space && e.message.find("the cache directory \"" + dir + "\" is full") != std::string::npos;
}

// Takes every byte left on the file system of dir.
static void fill(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  std::vector<char> chunk(4096);
  while (fd >= 0 && ::write(fd, chunk.data(), chunk.size()) > 0) {
  }
  if (fd >= 0) ::close(fd);
}

int main() {
  test::TempDir tmp;
  std::string mnt = tmp / "cache";
  if (mkdir(mnt.c_str(), 0755) < 0) return 1;
  if (geteuid() != 0) {
    std::printf("SKIP: not root (mounting a small tmpfs)\n");
    return 77;
  }
  // In a mount namespace of the test's own: however it ends, nothing stays mounted.
  if (unshare(CLONE_NEWNS) < 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) {
    std::printf("FAIL: cannot make a private mount namespace as root: %s\n", std::strerror(errno));
    return 1;
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
    if (!names_full_dir(last, mnt)) FAIL("the error does not name the cache directory as full: %s", last.message.c_str());
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

    // No byte left at all: a minimized blob, then the index itself (negative
    // entries write rows only) fail the same way.
    std::string filler = mnt + "/filler";
    fill(filler);
    auto mini = (*s)->put_minimized(sha256(blob), {}, blob, "{}");
    if (mini || !names_full_dir(mini.error(), mnt))
      FAIL("a minimized put on a full disk: %s", mini ? "stored" : mini.error().message.c_str());
    Error index_error;
    for (int i = 0; i < 20000 && index_error.code != Errc::no_space; ++i) {
      auto st = (*s)->put_negative(kid(1000 + i), 1ll << 40, std::string(512, 'r'));
      if (!st) index_error = st.error();
    }
    if (!names_full_dir(index_error, mnt))
      FAIL("an index write on a full disk: %s: %s", errc_name(index_error.code), index_error.message.c_str());
    std::printf("index full: %s\n", index_error.message.c_str());
    ::unlink(filler.c_str());
    auto still_there = (*s)->find_kernel(kid(200));
    if (!still_there || !still_there->has_value()) FAIL("an entry was lost to the full index");
    auto after = (*s)->put_kernel(kid(202), blob, store::Source::file, "", false);
    if (!after) FAIL("write after the disk has room again: %s", after.error().message.c_str());

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
