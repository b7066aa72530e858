// SPDX-License-Identifier: GPL-2.0-or-later
#include "debuginfo/temp_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace btfd::debuginfo {

Status lock_in_use(int fd) {
  if (::flock(fd, LOCK_EX | LOCK_NB) < 0) return sys_error(errno, "cannot lock a temp file");
  return {};
}

size_t remove_stale_temps(const std::string& dir) {
  UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d) return 0;
  DIR* listing = ::fdopendir(::dup(d.get()));
  if (!listing) return 0;
  size_t removed = 0;
  while (struct dirent* e = ::readdir(listing)) {
    std::string name = e->d_name;
    bool download = name.rfind(kDownloadPrefix, 0) == 0, pahole = name.rfind(kPahoPrefix, 0) == 0;
    if (!download && !pahole) continue;
    // Never followed: a leftover is btfd's own file or directory, nothing else.
    UniqueFd f(::openat(d.get(), name.c_str(),
                        O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (pahole ? O_DIRECTORY : 0)));
    if (!f || ::flock(f.get(), LOCK_EX | LOCK_NB) < 0) continue;  // gone, foreign, or in use
    if (pahole) {
      // pahole's files in it (only files: pahole makes no directories there).
      if (DIR* inner = ::fdopendir(::dup(f.get()))) {
        while (struct dirent* x = ::readdir(inner))
          if (std::strcmp(x->d_name, ".") != 0 && std::strcmp(x->d_name, "..") != 0) ::unlinkat(f.get(), x->d_name, 0);
        ::closedir(inner);
      }
      if (::unlinkat(d.get(), name.c_str(), AT_REMOVEDIR) == 0) ++removed;
    } else if (::unlinkat(d.get(), name.c_str(), 0) == 0) {
      ++removed;
    }
  }
  ::closedir(listing);
  return removed;
}

}  // namespace btfd::debuginfo
