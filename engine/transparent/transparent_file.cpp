// SPDX-License-Identifier: GPL-2.0-or-later
#include "transparent/transparent_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "btf/btf_validate.hpp"
#include "kernel/identity.hpp"
#include "transparent/btf_elf.hpp"
#include "util/fd.hpp"
#include "util/sha256.hpp"

namespace btfd::transparent {

Status validate_path_template(std::string_view t) {
  auto bad = [&](const std::string& why) {
    return make_error(Errc::invalid_argument, "path template \"" + std::string(t) + "\" " + why);
  };
  if (t.size() > 512) return bad("is longer than 512 characters");
  if (t.empty() || t.front() != '/') return bad("is not an absolute path");
  bool has_release = false;
  for (size_t i = 0; i < t.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(t[i]);
    if (c < 0x20 || c == 0x7f) return bad("contains a control character");
    if (c != '%') continue;
    if (i + 1 < t.size() && t[i + 1] == 'v') has_release = true;
    else if (i + 1 >= t.size() || t[i + 1] != '%') return bad("has a specifier other than %v and %%");
    ++i;
  }
  if (!has_release) return bad("does not name the kernel release (%v)");
  // Components: none empty after the first, none "." or "..".
  for (size_t pos = 1; pos <= t.size();) {
    size_t end = t.find('/', pos);
    if (end == std::string_view::npos) end = t.size();
    std::string_view part = t.substr(pos, end - pos);
    if (part.empty() || part == "." || part == "..") return bad("has an empty, \".\" or \"..\" component");
    pos = end + 1;
  }
  return {};
}

std::string expand_path_template(std::string_view t, std::string_view release, const std::string& host_root) {
  std::string out;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '%' && i + 1 < t.size()) {
      out += t[i + 1] == 'v' ? std::string(release) : std::string(1, t[i + 1]);
      ++i;
    } else {
      out += t[i];
    }
  }
  return host_path(host_root, out);
}

const char* file_state_name(FileState s) {
  switch (s) {
    case FileState::absent: return "absent";
    case FileState::ours: return "installed";
    case FileState::foreign: return "foreign";
  }
  return "?";
}

Result<FileInfo> inspect_file(const std::string& path) {
  FileInfo info;
  info.path = path;
  // O_NOFOLLOW: a link there is not btfd's file; O_NONBLOCK: a FIFO does not hang us.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) return info;
    if (err == ELOOP) {
      info.state = FileState::foreign;
      info.not_ours = "a symbolic link";
      return info;
    }
    return sys_error(err, "cannot open \"" + path + "\"");
  }
  UniqueFd owned(fd);
  auto ownership = read_ownership(fd);
  if (!ownership) return std::move(ownership).error().wrap("\"" + path + "\"");
  info.size = file_size(fd).value_or(0);
  if (ownership->marker) {
    info.state = FileState::ours;
    info.release = ownership->marker->release;
    info.btf_sha256 = ownership->marker->btf_sha256;
  } else {
    info.state = FileState::foreign;
    info.not_ours = ownership->not_ours;
  }
  return info;
}

namespace {

Error foreign_error(const FileInfo& f) {
  return make_error(Errc::permission, "\"" + f.path + "\" is not btfd's file (" + f.not_ours +
                                          "): left alone; move it away to let btfd install its own");
}

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// btfctl runs for one directory at a time: the kernel hooks and the daily
// oneshot may overlap, and one must not remove a temp file the other is still
// writing. Every install and remove holds an exclusive flock(2) on the file's
// directory (released when the descriptor closes). Unset: no such directory.
Result<UniqueFd> lock_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return UniqueFd();
    return sys_error(errno, "cannot open \"" + dir + "\"");
  }
  UniqueFd owned(fd);
  while (::flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) return sys_error(errno, "cannot lock \"" + dir + "\"");
  return owned;
}

// remove_leftover_temps() with the directory locked (dirfd).
Result<size_t> remove_temps_locked(int dirfd, const std::string& path) {
  const std::string dir = parent_dir(path), base = base_name(path);
  // fdopendir() owns the descriptor it is given: a duplicate, so the lock stays.
  UniqueFd listing(::fcntl(dirfd, F_DUPFD_CLOEXEC, 3));
  if (!listing) return sys_error(errno, "dup");
  DIR* d = ::fdopendir(listing.get());
  if (!d) return sys_error(errno, "cannot list \"" + dir + "\"");
  listing.release();
  std::unique_ptr<DIR, int (*)(DIR*)> closer(d, ::closedir);
  size_t removed = 0;
  for (;;) {
    errno = 0;
    const struct dirent* e = ::readdir(d);
    if (!e) {
      if (errno != 0) return sys_error(errno, "cannot list \"" + dir + "\"");
      break;
    }
    if (!is_atomic_temp_name(e->d_name, base)) continue;
    struct stat st {};
    if (::fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT) continue;
      return sys_error(errno, "cannot stat \"" + dir + "/" + e->d_name + "\"");
    }
    // Only what write_file_atomic makes: a regular file. A symbolic link would
    // be removed as a link, never its target, but it is not btfd's to touch.
    if (!S_ISREG(st.st_mode)) continue;
    if (::unlinkat(dirfd, e->d_name, 0) < 0) {
      if (errno == ENOENT) continue;
      return sys_error(errno, "cannot remove \"" + dir + "/" + e->d_name + "\"");
    }
    ++removed;
  }
  if (removed && ::fsync(dirfd) < 0) return sys_error(errno, "fsync \"" + dir + "\"");
  return removed;
}

// The BTF root is about to write where every eBPF tool reads it.
Status check_btf(std::span<const uint8_t> btf, std::string_view release) {
  // validate_btf reads in place and needs 4-byte alignment; heap buffers have it.
  std::vector<uint8_t> aligned;
  if (reinterpret_cast<uintptr_t>(btf.data()) % 4 != 0) {
    aligned.assign(btf.begin(), btf.end());
    btf = aligned;
  }
  auto refuse = [&](const std::string& why) {
    return make_error(Errc::corrupt, "the BTF btfd sent for kernel " + std::string(release) +
                                         " is not valid BTF (" + why + "): nothing written");
  };
  auto layout = btf::validate_btf(btf);
  if (!layout) return refuse(layout.error().message);
  if (layout->offsets.size() < 2) return refuse("it has no types");
  return {};
}

}  // namespace

Result<size_t> remove_leftover_temps(const std::string& path) {
  BTFD_TRY(UniqueFd dir, lock_dir(parent_dir(path)));
  if (!dir) return size_t{0};
  return remove_temps_locked(dir.get(), path);
}

Result<FileInfo> install_file(const std::string& path, std::span<const uint8_t> btf, std::string_view release) {
  BTFD_TRY_VOID(validate_identity({"x", "x", "x", std::string(release)}));
  std::string dir = parent_dir(path);
  BTFD_TRY(UniqueFd locked, lock_dir(dir));
  if (!locked)
    return make_error(Errc::not_found, "\"" + dir + "\" does not exist: is kernel " + std::string(release) +
                                           " installed?");
  BTFD_TRY_VOID(remove_temps_locked(locked.get(), path));
  BTFD_TRY(FileInfo now, inspect_file(path));
  if (now.state == FileState::foreign) return foreign_error(now);
  BTFD_TRY_VOID(check_btf(btf, release));
  Marker marker{std::string(release), sha256_hex(btf)};
  std::string image = btf_elf_image(btf, marker);
  BTFD_TRY_VOID(write_file_atomic(path, std::span(reinterpret_cast<const uint8_t*>(image.data()), image.size()), 0644));
  FileInfo out;
  out.path = path;
  out.state = FileState::ours;
  out.release = marker.release;
  out.btf_sha256 = marker.btf_sha256;
  out.size = image.size();
  return out;
}

Result<Removed> remove_file(const std::string& path) {
  Removed out;
  BTFD_TRY(UniqueFd locked, lock_dir(parent_dir(path)));
  if (!locked) return out;
  BTFD_TRY(out.temps, remove_temps_locked(locked.get(), path));
  BTFD_TRY(FileInfo now, inspect_file(path));
  if (now.state == FileState::absent) return out;
  if (now.state == FileState::foreign) return foreign_error(now);
  if (::unlinkat(locked.get(), base_name(path).c_str(), 0) < 0) {
    if (errno == ENOENT) return out;
    return sys_error(errno, "cannot remove \"" + path + "\"");
  }
  out.file = true;
  if (::fsync(locked.get()) < 0) return sys_error(errno, "fsync \"" + parent_dir(path) + "\"");
  return out;
}

}  // namespace btfd::transparent
