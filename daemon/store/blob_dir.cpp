// SPDX-License-Identifier: GPL-2.0-or-later
#include "store/blob_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace btfd::store {

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

Result<Published> BlobDir::publish(PendingBlob&& blob) const {
  PendingBlob b = std::move(blob);
  if (::fsync(b.fd()) < 0) return sys_error(errno, "fsync \"" + b.path() + "\"");
  BTFD_TRY(Digest d, sha256_fd(b.fd()));
  BTFD_TRY(uint64_t size, file_size(b.fd()));
  std::string final_path = path_of(d);
  struct stat st {};
  if (::stat(final_path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) == size) {
    return Published{d, size};  // identical content already stored; b is discarded
  }
  if (::rename(b.path().c_str(), final_path.c_str()) < 0)
    return sys_error(errno, "cannot publish blob \"" + final_path + "\"");
  b.forget();
  BTFD_TRY_VOID(fsync_dir(dir_));
  return Published{d, size};
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
