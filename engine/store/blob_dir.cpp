// SPDX-License-Identifier: GPL-2.0-or-later
#include "store/blob_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace btfd::store {

FileStamp stamp_from(const struct stat& st) {
  return FileStamp{st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
}

Result<FileStamp> stamp_of(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return sys_error(errno, "cannot stat a blob");
  return stamp_from(st);
}

PendingBlob& PendingBlob::operator=(PendingBlob&& o) noexcept {
  if (this != &o) {
    discard();
    fd_ = std::move(o.fd_);
    path_ = std::move(o.path_);
    o.path_.clear();
  }
  return *this;
}

void PendingBlob::discard() {
  if (!path_.empty()) ::unlink(path_.c_str());
  path_.clear();
  fd_.reset();
}

Result<PendingBlob> BlobDir::create_temp() const {
  std::string tmpl = dir_ + "/" + kTempPrefix + "XXXXXX";
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return sys_error(errno, "cannot create a temp file in \"" + dir_ + "\"");
  // Blobs are immutable to everyone; readers only ever need read access.
  ::fchmod(fd, 0644);
  return PendingBlob(UniqueFd(fd), tmpl);
}

Result<Published> BlobDir::publish(PendingBlob&& blob, const Digest* hashed) const {
  PendingBlob b = std::move(blob);
  if (::fsync(b.fd()) < 0) return sys_error(errno, "fsync \"" + b.path() + "\"");
  BTFD_TRY(Digest d, hashed ? Result<Digest>(*hashed) : sha256_fd(b.fd()));
  BTFD_TRY(uint64_t size, file_size(b.fd()));
  std::string final_path = path_of(d);
  if (::rename(b.path().c_str(), final_path.c_str()) < 0)
    return sys_error(errno, "cannot publish blob \"" + final_path + "\"");
  // Stamped after the rename, which may change the inode's ctime.
  auto stamp = stamp_of(b.fd());
  b.forget();
  if (!stamp) return std::move(stamp).error().wrap("\"" + final_path + "\"");
  BTFD_TRY_VOID(fsync_dir(dir_));
  return Published{d, size, *stamp};
}

Result<Published> BlobDir::write(std::span<const uint8_t> bytes) const {
  BTFD_TRY(PendingBlob b, create_temp());
  if (auto st = write_all(b.fd(), bytes); !st) return std::move(st).error().wrap("cannot write a blob in \"" + dir_ + "\"");
  return publish(std::move(b));
}

Result<UniqueFd> BlobDir::open(const Digest& d) const { return open_file(path_of(d), O_RDONLY); }

Status BlobDir::remove(const Digest& d) const {
  std::string p = path_of(d);
  if (::unlink(p.c_str()) < 0 && errno != ENOENT) return sys_error(errno, "cannot remove \"" + p + "\"");
  return {};
}

std::string BlobDir::retire(const Digest& d) const {
  static std::atomic<uint64_t> seq{0};
  std::string from = path_of(d);
  std::string to = dir_ + "/" + kTempPrefix + "gone-" + std::to_string(::getpid()) + "-" + std::to_string(seq++);
  if (::rename(from.c_str(), to.c_str()) < 0) return {};
  return to;
}

namespace {
Result<std::vector<std::string>> list_dir(const std::string& dir, bool temps) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return sys_error(errno, "cannot list \"" + dir + "\"");
  std::vector<std::string> out;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    bool is_temp = name.rfind(kTempPrefix, 0) == 0;
    if (temps ? is_temp : is_hex_digest(name)) out.push_back(std::move(name));
  }
  ::closedir(d);
  return out;
}
}  // namespace

Result<std::vector<std::string>> BlobDir::list_blobs() const { return list_dir(dir_, false); }
Result<std::vector<std::string>> BlobDir::list_temps() const { return list_dir(dir_, true); }

}  // namespace btfd::store
