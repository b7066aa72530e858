// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/mirror_tree.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

#include "hub/archive_index.hpp"
#include "util/sha256.hpp"

namespace btfctl::mirror {
using btfd::Errc;
using btfd::make_error;
using btfd::Result;
using btfd::Status;
using btfd::UniqueFd;

namespace {

constexpr const char* kLockName = ".btfctl-mirror.lock";
constexpr unsigned kSaveEvery = 16;  // files renamed into place between SHA256SUMS saves

std::string parent_of(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}
std::string base_of(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? rel : rel.substr(slash + 1);
}

bool is_regular(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool older_than(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

// Saves between which at most this many files are renamed into place: every
// 16 early on, then a growing share of the tree, so that the saves (each
// writes every line) cost linear time in all. A killed run's unsaved files are
// hashed again by the next (digest_of), so spacing saves loses nothing.
unsigned save_interval(size_t files) { return static_cast<unsigned>(std::max<size_t>(kSaveEvery, files / 8)); }

}  // namespace

Result<std::unique_ptr<Tree>> Tree::open(const std::string& dest) {
  BTFD_TRY_VOID(btfd::mkdir_p(dest, 0755));
  std::string root = dest;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  BTFD_TRY(UniqueFd lock, btfd::open_file(root + "/" + kLockName, O_RDWR | O_CREAT, 0644));
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0)
    return make_error(Errc::busy, "another btfctl mirror is writing \"" + root + "\"");
  std::unique_ptr<Tree> t(new Tree(root, std::move(lock)));
  // What an earlier run recorded; each line is trusted only while its file is there.
  std::string sums_path = root + "/SHA256SUMS";
  struct stat sums_st {};
  if (::stat(sums_path.c_str(), &sums_st) == 0) t->sums_mtime_ = sums_st.st_mtim;
  if (btfd::path_exists(sums_path)) {
    BTFD_TRY(std::string text, btfd::read_text_file(sums_path, btfd::hub::kMaxSumsBytes));
    std::string_view rest = text;
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      if (line.size() < 67 || !btfd::is_hex_digest(line.substr(0, 64))) continue;
      std::string_view path = line.substr(66);
      while (path.substr(0, 2) == "./") path.remove_prefix(2);
      if (!btfd::hub::archive_entry_from_path(path)) continue;
      std::string hex(line.substr(0, 64));
      for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      t->sums_.emplace(std::string(path), std::move(hex));
    }
  }
  return t;
}

std::string Tree::digest_of(const std::string& rel) {
  std::string path = root_ + "/" + rel;
  auto it = sums_.find(rel);
  if (it != sums_.end() && known_.count(rel)) return it->second;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return "";
  // Trusted only when the file was there before SHA256SUMS was written: a run
  // killed between its rename and its next save leaves a newer file, whose
  // recorded digest (if any) is the old version's.
  if (it != sums_.end() && older_than(st.st_mtim, sums_mtime_)) {
    known_.insert(rel);
    return it->second;
  }
  auto fd = btfd::open_file(path, O_RDONLY | O_NOFOLLOW);
  if (!fd) return "";
  auto d = btfd::sha256_fd(fd->get());
  if (!d) return "";
  std::string hex = btfd::to_hex(*d);
  sums_[rel] = hex;
  known_.insert(rel);
  return hex;
}

Result<Tree::Put> Tree::put(const std::string& rel, const std::function<Status(int)>& fill,
                            const std::function<Status(int)>& check, const std::string& expected_sha256) {
  std::string dir = root_ + "/" + parent_of(rel);
  BTFD_TRY_VOID(btfd::mkdir_p(dir, 0755));
  // Hidden, so neither a reader of the tree nor btfd takes it for an archive;
  // a killed run's leftover is truncated and reused by the next.
  std::string temp = dir + "/." + base_of(rel) + ".partial";
  BTFD_TRY(UniqueFd fd, btfd::open_file(temp, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644));
  auto fail = [&](btfd::Error e) {
    ::unlink(temp.c_str());
    return e;
  };
  if (auto st = fill(fd.get()); !st) return fail(std::move(st).error());
  if (auto st = check(fd.get()); !st) return fail(std::move(st).error());
  auto digest = btfd::sha256_fd(fd.get());
  if (!digest) return fail(std::move(digest).error());
  auto size = btfd::file_size(fd.get());
  if (!size) return fail(std::move(size).error());
  Put out{btfd::to_hex(*digest), *size, true};
  if (!expected_sha256.empty() && out.sha256 != expected_sha256)
    return fail(make_error(Errc::corrupt, "\"" + rel + "\" changed while being copied (got " + out.sha256 + ", expected " +
                                              expected_sha256 + ")"));
  if (digest_of(rel) == out.sha256) {
    ::unlink(temp.c_str());
    out.changed = false;
    return out;
  }
  if (::fsync(fd.get()) != 0) return fail(btfd::sys_error(errno, "cannot write \"" + temp + "\""));
  if (::rename(temp.c_str(), (root_ + "/" + rel).c_str()) != 0)
    return fail(btfd::sys_error(errno, "cannot rename \"" + temp + "\" into place"));
  sums_[rel] = out.sha256;
  known_.insert(rel);
  if (++unsaved_ >= save_interval(sums_.size())) BTFD_TRY_VOID(save_sums());
  return out;
}

Status Tree::link(const std::string& link_rel, const std::string& target_rel) {
  std::string path = root_ + "/" + link_rel;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return {};  // a directory or link is there already: kept
  if (parent_of(link_rel) != parent_of(target_rel) || !btfd::path_exists(root_ + "/" + target_rel)) return {};
  BTFD_TRY_VOID(btfd::mkdir_p(root_ + "/" + parent_of(link_rel), 0755));
  if (::symlink(base_of(target_rel).c_str(), path.c_str()) != 0)
    return btfd::sys_error(errno, "cannot create the alias \"" + path + "\"");
  aliases_.reset();  // listed again at the next save
  return {};
}

Status Tree::save_sums() {
  // Each entry is looked at once per run: put and digest_of saw theirs; one
  // only read from the old SHA256SUMS is checked here, and dropped if gone.
  for (auto it = sums_.begin(); it != sums_.end();) {
    if (known_.count(it->first) || is_regular(root_ + "/" + it->first)) {
      known_.insert(it->first);
      ++it;
    } else {
      it = sums_.erase(it);
    }
  }
  std::map<std::string, std::string> listed = sums_;
  // Aliases list the same archives under their own paths.
  if (!aliases_) {
    if (auto a = btfd::hub::list_aliases(root_)) aliases_ = std::move(*a);
    else aliases_.emplace();
  }
  for (const auto& a : *aliases_) {
    std::string prefix = a.target + "/";
    for (auto it = sums_.lower_bound(prefix); it != sums_.end() && it->first.rfind(prefix, 0) == 0; ++it)
      listed.insert_or_assign(a.link + "/" + it->first.substr(prefix.size()), it->second);  // the target's digest wins over an old line
  }
  std::string text;
  for (const auto& [rel, hex] : listed) text += hex + "  ./" + rel + "\n";
  BTFD_TRY_VOID(btfd::write_file_atomic(root_ + "/SHA256SUMS",
                                        std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()), 0644));
  unsaved_ = 0;
  return {};
}

Status pack_btf_archive(int out_fd, const std::string& release, std::span<const uint8_t> btf) {
  std::unique_ptr<archive, decltype(&archive_write_free)> a(archive_write_new(), archive_write_free);
  std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
  if (!a || !e) return make_error(Errc::internal, "cannot create an archive writer");
  auto failed = [&](const char* what) {
    const char* why = archive_error_string(a.get());
    return make_error(Errc::io, std::string(what) + ": " + (why ? why : "libarchive error"));
  };
  if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK || archive_write_add_filter_xz(a.get()) != ARCHIVE_OK)
    return failed("cannot set up a .tar.xz writer");
  if (archive_write_open_fd(a.get(), out_fd) != ARCHIVE_OK) return failed("cannot start the archive");
  archive_entry_set_pathname(e.get(), (release + ".btf").c_str());
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_perm(e.get(), 0644);
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(btf.size()));
  archive_entry_set_mtime(e.get(), 0, 0);
  if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) return failed("cannot write the archive header");
  size_t done = 0;
  while (done < btf.size()) {
    la_ssize_t n = archive_write_data(a.get(), btf.data() + done, btf.size() - done);
    if (n <= 0) return failed("cannot write the BTF into the archive");
    done += static_cast<size_t>(n);
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return failed("cannot finish the archive");
  return {};
}

Status copy_fd(int in_fd, int out_fd) {
  char buf[1 << 16];
  off_t off = 0;
  for (;;) {
    ssize_t n = ::pread(in_fd, buf, sizeof(buf), off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return btfd::sys_error(errno, "cannot read the archive");
    if (n == 0) return {};
    BTFD_TRY_VOID(btfd::write_all(out_fd, std::span(reinterpret_cast<const uint8_t*>(buf), static_cast<size_t>(n))));
    off += n;
  }
}

}  // namespace btfctl::mirror
