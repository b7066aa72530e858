// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once
// Owning file descriptor plus the few file operations every module needs.
// Every descriptor btfd opens is O_CLOEXEC.

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace btfd {

class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }
  int release() noexcept {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) noexcept;
  // dup(2) with O_CLOEXEC.
  Result<UniqueFd> dup() const;

 private:
  int fd_ = -1;
};

// open(2) with O_CLOEXEC added; errors name the path.
Result<UniqueFd> open_file(const std::string& path, int flags, mode_t mode = 0);
Result<UniqueFd> open_at(int dirfd, const std::string& name, int flags, mode_t mode = 0);

// Reads until EOF; fails with Errc::too_large past max_bytes.
Result<std::vector<uint8_t>> read_all(int fd, size_t max_bytes);
Result<std::vector<uint8_t>> read_file(const std::string& path, size_t max_bytes);
// Reads from offset 0 with pread(2), leaving the file position alone.
Result<std::vector<uint8_t>> pread_all(int fd, size_t max_bytes);
Result<std::string> read_text_file(const std::string& path, size_t max_bytes = 1 << 20);
// A sealed memfd (shrink, grow, write, seal) holding the bytes of the regular
// file fd (from offset 0, at most max_bytes); fd itself when it is a memfd
// already. How clients pass objects: btfd reads a memfd at once, while any
// other file (which might stall) takes its slower, bounded path.
Result<UniqueFd> sealed_copy(UniqueFd fd, size_t max_bytes, const char* name);

Status write_all(int fd, std::span<const uint8_t> data);
Status write_all(int fd, std::string_view text);

// Replace: temp file in the same directory, then rename, so that readers see
// the old file or the new one whole. Durable (the default): the file is
// fsync'ed before the rename and the directory after it. atomic_only: no
// fsync, as compilers and bpftool write their output (a crash may lose the
// new file, or leave it torn where the file system does not order the data
// before the rename): for a tool's -o, or a cache that detects a torn file
// itself and costs only a transfer when it loses one; never for state.
enum class Sync { durable, atomic_only };
Status write_file_atomic(const std::string& path, std::span<const uint8_t> data, mode_t mode = 0644,
                         Sync sync = Sync::durable);
// Whether a directory entry is named as write_file_atomic names its temp files
// for the file called `target` in that directory: "<target>.tmp.<decimal>". A
// writer killed before its rename leaves one; callers that own `target` use
// this to find and remove them.
bool is_atomic_temp_name(std::string_view entry, std::string_view target);

Status fsync_dir(const std::string& dir);
Status mkdir_p(const std::string& path, mode_t mode = 0755);
Result<uint64_t> file_size(int fd);
bool path_exists(const std::string& path);

}  // namespace btfd
