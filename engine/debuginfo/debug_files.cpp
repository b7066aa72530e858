// SPDX-License-Identifier: GPL-2.0-or-later
#include "debuginfo/debug_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "kernel/identity.hpp"

namespace btfd::debuginfo {
namespace {

bool is_release(std::string_view r) {
  if (r.empty() || r.size() > 128 || r == "." || r == "..") return false;
  for (char c : r)
    if (c == '/' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

bool is_regular(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Depth-first over dir, directories opened relative to their parent with
// O_NOFOLLOW (a symlink loop cannot keep it going); stops at the first match.
struct Walk {
  std::string want;  // canonical module name
  size_t entries = 0;
  bool exhausted = false;
  std::optional<std::string> found;

  void dir(int dirfd, const std::string& path, int depth) {
    DIR* d = ::fdopendir(dirfd);
    if (!d) {
      ::close(dirfd);
      return;
    }
    while (!found && !exhausted) {
      errno = 0;
      struct dirent* e = ::readdir(d);
      if (!e) break;
      if (++entries > kMaxWalkEntries) {
        exhausted = true;
        break;
      }
      std::string_view n = e->d_name;
      if (n == "." || n == "..") continue;
      if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN) {
        if (depth >= 12) continue;
        int sub = ::openat(::dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub >= 0) dir(sub, path + "/" + e->d_name, depth + 1);
        continue;
      }
      for (std::string_view suffix : {std::string_view(".ko"), std::string_view(".ko.debug")}) {
        if (n.size() > suffix.size() && n.substr(n.size() - suffix.size()) == suffix &&
            canonical_module_name(n.substr(0, n.size() - suffix.size())) == want) {
          std::string p = path + "/" + e->d_name;
          if (is_regular(p)) found = p;
        }
      }
    }
    ::closedir(d);
  }
};

}  // namespace

std::vector<std::string> kernel_debug_paths(std::string_view release) {
  std::string r(release);
  return {"/usr/lib/debug/boot/vmlinux-" + r, "/usr/lib/debug/lib/modules/" + r + "/vmlinux",
          "/usr/lib/debug/usr/lib/modules/" + r + "/vmlinux"};
}

Result<Lookup> find_kernel_debug(const std::string& host_root, std::string_view release) {
  if (!is_release(release)) return make_error(Errc::invalid_argument, "\"" + std::string(release) + "\" is not a kernel release");
  Lookup l;
  for (auto& p : kernel_debug_paths(release)) {
    std::string full = host_path(host_root, p);
    l.looked_in.push_back(p);
    if (is_regular(full)) {
      l.path = full;
      break;
    }
  }
  return l;
}

bool is_module_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxModuleName) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  return true;
}

std::string canonical_module_name(std::string_view name) {
  std::string out(name);
  for (char& c : out)
    if (c == '-') c = '_';
  return out;
}

Result<Lookup> find_module_debug(const std::string& host_root, std::string_view release, std::string_view name) {
  if (!is_release(release)) return make_error(Errc::invalid_argument, "\"" + std::string(release) + "\" is not a kernel release");
  if (!is_module_name(name))
    return make_error(Errc::invalid_argument, "\"" + std::string(name) + "\" is not a module name ([A-Za-z0-9_-], at most " +
                                                  std::to_string(kMaxModuleName) + " characters)");
  Lookup l;
  std::string rel = "/usr/lib/debug/lib/modules/" + std::string(release);
  l.looked_in.push_back(rel + "/**/" + std::string(name) + ".ko[.debug]");
  std::string root = host_path(host_root, rel);
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return l;
  Walk w;
  w.want = canonical_module_name(name);
  w.dir(fd, root, 0);
  if (w.exhausted && !w.found)
    return make_error(Errc::too_large, "more than " + std::to_string(kMaxWalkEntries) + " entries under \"" + root +
                                           "\" before module " + std::string(name) + " was found");
  l.path = w.found;
  return l;
}

}  // namespace btfd::debuginfo
