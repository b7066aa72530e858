// SPDX-License-Identifier: GPL-2.0-or-later
#include "hub/archive_index.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string_view>

#include "hub/archive_reader.hpp"
#include "hub/btf_check.hpp"
#include "hub/http_fetch.hpp"
#include "hub/mirror.hpp"
#include "util/sha256.hpp"

namespace btfd::hub {
namespace {

constexpr std::string_view kSuffix = ".btf.tar.xz";
// A whole btfhub-archive has some tens of thousands of kernels; a source listing
// more is not one (or is hostile) and is refused before it exhausts memory.
constexpr size_t kMaxEntries = 1'000'000;

// One path component of the layout: no separators, no "." or "..", no hidden
// files (a sync's own temp files start with '.'), nothing unprintable.
bool safe_component(std::string_view c) {
  if (c.empty() || c.size() > NAME_MAX || c[0] == '.') return false;
  return std::all_of(c.begin(), c.end(), [](char ch) {
    auto u = static_cast<unsigned char>(ch);
    return u > 0x20 && u < 0x7f && ch != '/' && ch != '\\';
  });
}

// "<distro>/<version>/<arch>/<release>.btf.tar.xz" -> an entry, or nothing.
std::optional<ArchiveEntry> entry_from_path(std::string_view rel) {
  std::vector<std::string_view> parts;
  while (true) {
    size_t slash = rel.find('/');
    parts.push_back(rel.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rel.remove_prefix(slash + 1);
  }
  if (parts.size() != 4) return std::nullopt;
  std::string_view file = parts[3];
  if (file.size() <= kSuffix.size() || file.substr(file.size() - kSuffix.size()) != kSuffix) return std::nullopt;
  if (!std::all_of(parts.begin(), parts.end(), safe_component)) return std::nullopt;
  ArchiveEntry e;
  e.distro = parts[0];
  e.version = parts[1];
  e.arch = parts[2];
  e.release = file.substr(0, file.size() - kSuffix.size());
  e.rel_path = e.distro + "/" + e.version + "/" + e.arch + "/" + std::string(file);
  return e;
}

Result<UniqueFd> anonymous_file(const char* name) {
  int fd = ::memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return sys_error(errno, "cannot create an in-memory file");
  return UniqueFd(fd);
}

Result<std::string> real_path(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> p(::realpath(path.c_str(), nullptr), std::free);
  if (!p) return sys_error(errno, "\"" + path + "\"");
  return std::string(p.get());
}

bool inside(const std::string& root, const std::string& path) {
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          (root == "/" || path[root.size()] == '/'));
}

std::vector<std::string> sorted_names(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return names;
  while (struct dirent* de = ::readdir(d)) {
    if (safe_component(de->d_name)) names.emplace_back(de->d_name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// Walks a directory source. Real directories first, so that a directory reached
// both directly and through a symlink is listed under its real name; then each
// symlinked directory inside the root that the walk has not seen, once, without
// following further links below it.
class TreeWalk {
 public:
  explicit TreeWalk(std::string root) : root_(std::move(root)) {}

  Status run() {
    visit(root_, "", 0, true);
    for (size_t i = 0; i < links_.size(); ++i) {  // links_ does not grow while following
      auto& [rel, real] = links_[i];
      if (seen_dirs_.count(real) || !followed_.insert(real).second) continue;
      visit(root_ + "/" + rel, rel, depth_of(rel), false);
    }
    if (too_many_) return make_error(Errc::too_large, "\"" + root_ + "\" lists more than " +
                                                          std::to_string(kMaxEntries) + " kernels");
    return {};
  }

  std::vector<ArchiveEntry> entries;
  std::vector<ArchiveAlias> aliases;

 private:
  static int depth_of(const std::string& rel) { return static_cast<int>(std::count(rel.begin(), rel.end(), '/')) + 1; }

  void visit(const std::string& abs, const std::string& rel, int depth, bool real_walk) {
    if (real_walk) {
      if (auto r = real_path(abs)) seen_dirs_.insert(*r);
    }
    for (const std::string& name : sorted_names(abs)) {
      std::string child = abs + "/" + name;
      std::string child_rel = rel.empty() ? name : rel + "/" + name;
      struct stat lst {}, st {};
      if (::lstat(child.c_str(), &lst) != 0 || ::stat(child.c_str(), &st) != 0) continue;
      bool link = S_ISLNK(lst.st_mode);
      if (link) {
        auto real = real_path(child);
        if (!real || !inside(root_, *real)) continue;  // never outside the root
        if (S_ISDIR(st.st_mode)) {
          if (depth < 3 && real_walk) {
            links_.emplace_back(child_rel, *real);
            aliases.push_back({child_rel, real->size() > root_.size() ? real->substr(root_.size() + 1) : ""});
          }
          continue;
        }
      }
      if (S_ISDIR(st.st_mode) && depth < 3) {
        visit(child, child_rel, depth + 1, real_walk);
      } else if (S_ISREG(st.st_mode) && depth == 3) {
        auto e = entry_from_path(child_rel);
        if (!e) continue;
        if (entries.size() >= kMaxEntries) {
          too_many_ = true;
          return;
        }
        e->size = static_cast<uint64_t>(st.st_size);
        entries.push_back(std::move(*e));
      }
    }
  }

  std::string root_;
  std::set<std::string> seen_dirs_, followed_;
  std::vector<std::pair<std::string, std::string>> links_;
  bool too_many_ = false;
};

Result<std::string> directory_root(const std::string& source) {
  std::string path = source;
  if (path.rfind("file://", 0) == 0) path = path.substr(7);
  BTFD_TRY(std::string root, real_path(path));
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error(Errc::invalid_argument, "\"" + source + "\" is not a directory");
  return root;
}

Result<std::vector<ArchiveEntry>> list_directory(const std::string& source) {
  BTFD_TRY(std::string root, directory_root(source));
  TreeWalk walk(root);
  BTFD_TRY_VOID(walk.run());
  std::string sums_path = root + "/SHA256SUMS";
  if (path_exists(sums_path)) {
    BTFD_TRY(auto text, read_file(sums_path, kMaxSumsBytes));
    auto sums = parse_archive_sums(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
    for (ArchiveEntry& e : walk.entries) {
      if (auto it = sums.find(e.rel_path); it != sums.end()) e.sha256 = it->second;
    }
  }
  return std::move(walk.entries);
}

Result<std::vector<ArchiveEntry>> list_url(const std::string& source) {
  std::string url = mirror_base_url(source) + "/SHA256SUMS";
  BTFD_TRY(UniqueFd fd, anonymous_file("SHA256SUMS"));
  DownloadLimits limits;
  limits.max_bytes = kMaxSumsBytes;
  FetchFailure failure = FetchFailure::fatal;
  auto dl = download(url, fd.get(), limits, {}, &failure);
  if (!dl) {
    if (failure == FetchFailure::not_found)
      return make_error(Errc::not_found, "\"" + url + "\" does not exist: a URL source is listed through its "
                                        "SHA256SUMS (use a directory source, or publish one)");
    return std::move(dl).error();
  }
  BTFD_TRY(auto text, pread_all(fd.get(), kMaxSumsBytes));
  auto sums = parse_archive_sums(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
  if (sums.size() > kMaxEntries)
    return make_error(Errc::too_large, "\"" + url + "\" lists more than " + std::to_string(kMaxEntries) + " kernels");
  std::vector<ArchiveEntry> out;
  out.reserve(sums.size());
  for (auto& [path, hex] : sums) {
    ArchiveEntry e = *entry_from_path(path);
    e.sha256 = hex;
    out.push_back(std::move(e));
  }
  return out;
}

// Opens rel beneath the root's descriptor: the kernel refuses any component that
// leads outside it (no window between a check and the open), and the file itself
// may not be a link or a FIFO that blocks the open.
Result<UniqueFd> open_beneath(int root_fd, const std::string& rel) {
  struct open_how how {};
  how.flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd;
  do fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof(how));
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return sys_error(errno, "cannot open \"" + rel + "\"");
  return UniqueFd(static_cast<int>(fd));
}

Result<UniqueFd> open_in_directory(const std::string& source, const ArchiveEntry& e, uint64_t max_bytes) {
  if (!entry_from_path(e.rel_path)) return make_error(Errc::invalid_argument, "\"" + e.rel_path + "\" is not an archive path");
  BTFD_TRY(std::string root, directory_root(source));
  std::string path = root + "/" + e.rel_path;
  BTFD_TRY(UniqueFd root_fd, open_file(root, O_RDONLY | O_DIRECTORY));
  auto src = open_beneath(root_fd.get(), e.rel_path);
  if (!src && src.error().sys_errno == EXDEV) {
    // An absolute symlink on the way (RESOLVE_BENEATH takes relative ones only):
    // its target, if inside the root, is opened beneath the root in turn.
    BTFD_TRY(std::string real, real_path(path));
    if (!inside(root, real)) return make_error(Errc::permission, "\"" + path + "\" leads outside \"" + root + "\"");
    src = open_beneath(root_fd.get(), real.substr(root == "/" ? 1 : root.size() + 1));
  }
  if (!src) {
    if (src.error().sys_errno == ELOOP) return make_error(Errc::invalid_argument, "\"" + path + "\" is a symbolic link");
    if (src.error().sys_errno == EXDEV) return make_error(Errc::permission, "\"" + path + "\" leads outside \"" + root + "\"");
    return std::move(src).error();
  }
  struct stat st {};
  if (::fstat(src->get(), &st) != 0) return sys_error(errno, "\"" + path + "\"");
  if (!S_ISREG(st.st_mode)) return make_error(Errc::invalid_argument, "\"" + path + "\" is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    return make_error(Errc::too_large, "\"" + path + "\" is larger than " + std::to_string(max_bytes) + " bytes");
  // A private copy: what is hashed, checked and published is this copy, whatever
  // happens to the source file meanwhile (it may be rewritten in place).
  BTFD_TRY(UniqueFd copy, anonymous_file("archive"));
  uint64_t total = 0;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(src->get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error(errno, "cannot read \"" + path + "\"");
    if (n == 0) break;
    total += static_cast<uint64_t>(n);
    if (total > max_bytes)
      return make_error(Errc::too_large, "\"" + path + "\" is larger than " + std::to_string(max_bytes) + " bytes");
    BTFD_TRY_VOID(write_all(copy.get(), std::span(reinterpret_cast<const uint8_t*>(buf), static_cast<size_t>(n))));
  }
  return copy;
}

Result<UniqueFd> download_entry(const std::string& source, const ArchiveEntry& e, uint64_t max_bytes) {
  if (!entry_from_path(e.rel_path)) return make_error(Errc::invalid_argument, "\"" + e.rel_path + "\" is not an archive path");
  std::string url = mirror_base_url(source) + "/" + e.rel_path;
  BTFD_TRY(UniqueFd fd, anonymous_file("archive"));
  DownloadLimits limits;
  limits.max_bytes = max_bytes;
  FetchFailure failure = FetchFailure::fatal;
  BTFD_TRY_VOID(download(url, fd.get(), limits, {}, &failure));
  return fd;
}

}  // namespace

bool ArchiveFilter::matches(const ArchiveEntry& e) const {
  if (!distro.empty() && distro != e.distro) return false;
  if (!version.empty() && version != e.version) return false;
  if (!arch.empty() && arch != e.arch) return false;
  return release_glob.empty() || ::fnmatch(release_glob.c_str(), e.release.c_str(), 0) == 0;
}

std::optional<ArchiveEntry> archive_entry_from_path(std::string_view rel_path) { return entry_from_path(rel_path); }

std::map<std::string, std::string> parse_archive_sums(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() < 66 || line[64] != ' ' || !is_hex_digest(line.substr(0, 64))) continue;
    std::string_view path = line.substr(65);
    if (path[0] == ' ' || path[0] == '*') path.remove_prefix(1);
    while (path.substr(0, 2) == "./") path.remove_prefix(2);
    if (!entry_from_path(path)) continue;
    std::string hex(line.substr(0, 64));
    std::transform(hex.begin(), hex.end(), hex.begin(), [](char c) { return static_cast<char>(std::tolower(c)); });
    out.emplace(std::string(path), std::move(hex));
  }
  return out;
}

bool is_url_source(const std::string& source) {
  return source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0 || source.rfind("file://", 0) == 0;
}

Result<std::vector<ArchiveEntry>> list_archive(const std::string& source, const ArchiveFilter& filter) {
  auto all = is_url_source(source) ? list_url(source) : list_directory(source);
  if (!all) return std::move(all).error();
  std::vector<ArchiveEntry> out;
  for (ArchiveEntry& e : *all) {
    if (filter.matches(e)) out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const ArchiveEntry& a, const ArchiveEntry& b) { return a.rel_path < b.rel_path; });
  return out;
}

Result<UniqueFd> fetch_archive(const std::string& source, const ArchiveEntry& e, uint64_t max_archive_bytes) {
  auto fd = is_url_source(source) ? download_entry(source, e, max_archive_bytes)
                                  : open_in_directory(source, e, max_archive_bytes);
  if (!fd) return std::move(fd).error();
  if (!e.sha256.empty()) {
    BTFD_TRY(Digest got, sha256_fd(fd->get()));
    if (to_hex(got) != e.sha256)
      return make_error(Errc::corrupt, "\"" + e.rel_path + "\" does not match the source's SHA256SUMS (got " +
                                           to_hex(got) + ", listed " + e.sha256 + ")");
  }
  return fd;
}

Result<std::vector<uint8_t>> archive_btf(int archive_fd, const ArchiveEntry& e, uint64_t max_size) {
  BTFD_TRY(UniqueFd out, anonymous_file("btf"));
  ExtractLimits limits;
  limits.max_output_bytes = max_size;
  auto size = extract_btf(archive_fd, e.release, out.get(), limits);
  if (!size) return std::move(size).error().wrap("\"" + e.rel_path + "\"");
  if (auto st = check_kernel_btf_fd(out.get(), max_size); !st) return std::move(st).error().wrap("\"" + e.rel_path + "\"");
  return pread_all(out.get(), max_size);
}

Result<std::vector<uint8_t>> read_archive_btf(const std::string& source, const ArchiveEntry& e, uint64_t max_size) {
  BTFD_TRY(UniqueFd fd, fetch_archive(source, e, kMaxArchiveBytes));
  return archive_btf(fd.get(), e, max_size);
}

Result<std::vector<ArchiveAlias>> list_aliases(const std::string& source) {
  if (is_url_source(source)) return std::vector<ArchiveAlias>{};
  BTFD_TRY(std::string root, directory_root(source));
  TreeWalk walk(root);
  BTFD_TRY_VOID(walk.run());
  return std::move(walk.aliases);
}

}  // namespace btfd::hub
