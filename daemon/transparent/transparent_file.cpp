// SPDX-License-Identifier: GPL-2.0-or-later
#include "transparent/transparent_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

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

}  // namespace

Result<FileInfo> install_file(const std::string& path, std::span<const uint8_t> btf, std::string_view release) {
  BTFD_TRY_VOID(validate_identity({"x", "x", "x", std::string(release)}));
  BTFD_TRY(FileInfo now, inspect_file(path));
  if (now.state == FileState::foreign) return foreign_error(now);
  std::string dir = parent_dir(path);
  struct stat st {};
  if (::stat(dir.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
    return make_error(Errc::not_found, "\"" + dir + "\" does not exist: is kernel " + std::string(release) +
                                           " installed?");
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

Result<bool> remove_file(const std::string& path) {
  BTFD_TRY(FileInfo now, inspect_file(path));
  if (now.state == FileState::absent) return false;
  if (now.state == FileState::foreign) return foreign_error(now);
  if (::unlink(path.c_str()) < 0) {
    if (errno == ENOENT) return false;
    return sys_error(errno, "cannot remove \"" + path + "\"");
  }
  BTFD_TRY_VOID(fsync_dir(parent_dir(path)));
  return true;
}

}  // namespace btfd::transparent
