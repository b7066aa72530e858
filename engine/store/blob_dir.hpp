// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Content-addressed blob files: blobs/<sha256 hex>. New content is written to a
// temp file in the same directory, fsynced, renamed into place and the directory
// fsynced, so a blob name always refers to complete, durable content.

#include <sys/stat.h>

#include <span>
#include <string>
#include <vector>

#include "util/fd.hpp"
#include "util/sha256.hpp"

namespace btfd::store {

inline constexpr const char* kTempPrefix = ".tmp-";

// A temp file inside the blob directory; removed on destruction unless published.
class PendingBlob {
 public:
  PendingBlob() = default;
  PendingBlob(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  PendingBlob(PendingBlob&& o) noexcept : fd_(std::move(o.fd_)), path_(std::move(o.path_)) { o.path_.clear(); }
  PendingBlob& operator=(PendingBlob&& o) noexcept;
  PendingBlob(const PendingBlob&) = delete;
  PendingBlob& operator=(const PendingBlob&) = delete;
  ~PendingBlob() { discard(); }

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  void discard();
  // Hands over ownership of the temp file (after a successful rename).
  void forget() { path_.clear(); fd_.reset(); }

 private:
  UniqueFd fd_;
  std::string path_;
};

// What identifies one version of a file's content without reading it: a blob
// is trusted without hashing only while its stamp is the one it had when it
// was hashed. An in-place write changes mtime/ctime, a replacement by rename
// changes the inode. (Timestamps are as fine as the filesystem keeps them: a
// same-size rewrite within one clock tick of the hash is not seen.)
struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  timespec mtim{}, ctim{};
  bool operator==(const FileStamp& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtim.tv_sec == o.mtim.tv_sec &&
           mtim.tv_nsec == o.mtim.tv_nsec && ctim.tv_sec == o.ctim.tv_sec && ctim.tv_nsec == o.ctim.tv_nsec;
  }
};
FileStamp stamp_from(const struct stat& st);
Result<FileStamp> stamp_of(int fd);

struct Published {
  Digest digest;
  uint64_t size;
  FileStamp stamp;  // of the file now at path_of(digest), as hashed
};

class BlobDir {
 public:
  explicit BlobDir(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }
  std::string path_of(const Digest& d) const { return dir_ + "/" + to_hex(d); }

  Result<PendingBlob> create_temp() const;
  // fsync + hash + rename into place. Identical content already present is
  // replaced too: what is at the path is then known to be what was hashed.
  // With `hashed`, the caller already hashed the very bytes it wrote or
  // checked (and nothing else writes the file): that digest names the blob.
  Result<Published> publish(PendingBlob&& blob, const Digest* hashed = nullptr) const;
  Result<Published> write(std::span<const uint8_t> bytes) const;
  Result<UniqueFd> open(const Digest& d) const;
  Status remove(const Digest& d) const;
  // Renames a blob to a temp name (removed by unlink, or by the next open's
  // recovery after a crash) and returns that path; "" when there was no file.
  // Lets the caller free the file's space later, outside its lock, without a
  // concurrent publish of the same content landing on a name about to go.
  std::string retire(const Digest& d) const;
  // Names (hex) of all blob files and all temp files currently present.
  Result<std::vector<std::string>> list_blobs() const;
  Result<std::vector<std::string>> list_temps() const;

 private:
  std::string dir_;
};

}  // namespace btfd::store
