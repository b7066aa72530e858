// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Content-addressed blob files: blobs/<sha256 hex>. New content is written to a
// temp file in the same directory, fsynced, renamed into place and the directory
// fsynced, so a blob name always refers to complete, durable content.

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

struct Published {
  Digest digest;
  uint64_t size;
};

class BlobDir {
 public:
  explicit BlobDir(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }
  std::string path_of(const Digest& d) const { return dir_ + "/" + to_hex(d); }

  Result<PendingBlob> create_temp() const;
  // fsync + hash + rename into place (or drop it when identical content exists).
  Result<Published> publish(PendingBlob&& blob) const;
  Result<Published> write(std::span<const uint8_t> bytes) const;
  Result<UniqueFd> open(const Digest& d) const;
  Status remove(const Digest& d) const;
  // Names (hex) of all blob files and all temp files currently present.
  Result<std::vector<std::string>> list_blobs() const;
  Result<std::vector<std::string>> list_temps() const;

 private:
  std::string dir_;
};

}  // namespace btfd::store
