// SPDX-License-Identifier: LGPL-2.1-or-later
#include "util/fd.hpp"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <random>

namespace btfd {

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<UniqueFd> UniqueFd::dup() const {
  int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) return sys_error(errno, "dup");
  return UniqueFd(fd);
}

Result<UniqueFd> open_file(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return sys_error(errno, "cannot open \"" + path + "\"");
  return UniqueFd(fd);
}

Result<UniqueFd> open_at(int dirfd, const std::string& name, int flags, mode_t mode) {
  int fd = ::openat(dirfd, name.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return sys_error(errno, "cannot open \"" + name + "\"");
  return UniqueFd(fd);
}

namespace {

// Reads through a fixed chunk and appends: some files (sysfs, pipes) return a
// page per read(2), and growing-and-zeroing the output per call would be quadratic.
template <class Reader>
Result<std::vector<uint8_t>> read_loop(size_t max_bytes, size_t hint, Reader&& rd) {
  std::vector<uint8_t> out;
  if (hint) {
    // Regular files say how big they are: read straight into place.
    out.resize(std::min(hint, max_bytes));
    size_t got = 0;
    while (got < out.size()) {
      ssize_t n = rd(out.data() + got, out.size() - got, got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error(errno, "read");
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    bool short_read = got < out.size();
    out.resize(got);
    if (short_read) return out;  // EOF before the size stat gave: that is all there is
    // Almost always the file ends where stat said: a one-byte probe says so
    // without the chunk buffer below (a fresh 256 KiB per call otherwise).
    uint8_t probe = 0;
    ssize_t n;
    do n = rd(&probe, 1, out.size());
    while (n < 0 && errno == EINTR);
    if (n < 0) return sys_error(errno, "read");
    if (n == 0) return out;
    if (out.size() + 1 > max_bytes)
      return make_error(Errc::too_large, "input larger than " + std::to_string(max_bytes) + " bytes");
    out.push_back(probe);
  }
  std::vector<uint8_t> chunk(256 * 1024);
  for (;;) {
    ssize_t n = rd(chunk.data(), chunk.size(), out.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(errno, "read");
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes)
      return make_error(Errc::too_large, "input larger than " + std::to_string(max_bytes) + " bytes");
    out.insert(out.end(), chunk.begin(), chunk.begin() + n);
  }
  return out;
}

size_t size_hint(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) return static_cast<size_t>(st.st_size);
  return 0;
}

}  // namespace

Result<std::vector<uint8_t>> read_all(int fd, size_t max_bytes) {
  return read_loop(max_bytes, size_hint(fd),
                   [fd](uint8_t* p, size_t n, size_t) { return ::read(fd, p, n); });
}

Result<std::vector<uint8_t>> pread_all(int fd, size_t max_bytes) {
  return read_loop(max_bytes, size_hint(fd), [fd](uint8_t* p, size_t n, size_t off) {
    return ::pread(fd, p, n, static_cast<off_t>(off));
  });
}

Result<UniqueFd> sealed_copy(UniqueFd fd, size_t max_bytes, const char* name) {
  if (::fcntl(fd.get(), F_GET_SEALS) >= 0) return fd;
  UniqueFd mem(::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!mem) return sys_error(errno, "memfd_create");
  // The kernel copies (sendfile: no buffer here, no page faults on fresh
  // memory); a file sendfile cannot read (a pipe, some file systems) goes
  // through a buffer as before.
  off_t offset = 0;
  bool copied = false;
  for (;;) {
    size_t left = max_bytes + 1 - static_cast<size_t>(offset);  // one more: a file over the bound is refused
    ssize_t n = ::sendfile(mem.get(), fd.get(), &offset, std::min<size_t>(left, 1 << 30));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    if (n == 0) {
      copied = true;
      break;
    }
    if (static_cast<size_t>(offset) > max_bytes)
      return make_error(Errc::too_large, "input larger than " + std::to_string(max_bytes) + " bytes");
  }
  if (!copied) {
    if (offset != 0) return sys_error(errno, "sendfile");
    BTFD_TRY(auto bytes, pread_all(fd.get(), max_bytes));
    BTFD_TRY_VOID(write_all(mem.get(), std::span<const uint8_t>(bytes)));
  }
  if (::fcntl(mem.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
    return sys_error(errno, "sealing a memfd");
  return mem;
}

Result<std::vector<uint8_t>> read_file(const std::string& path, size_t max_bytes) {
  BTFD_TRY(UniqueFd fd, open_file(path, O_RDONLY));
  auto r = read_all(fd.get(), max_bytes);
  if (!r) return std::move(r).error().wrap("\"" + path + "\"");
  return r;
}

Result<std::string> read_text_file(const std::string& path, size_t max_bytes) {
  BTFD_TRY(auto bytes, read_file(path, max_bytes));
  return std::string(bytes.begin(), bytes.end());
}

Status write_all(int fd, std::span<const uint8_t> data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(errno, "write");
    }
    off += static_cast<size_t>(n);
  }
  return {};
}

Status write_all(int fd, std::string_view text) {
  return write_all(fd, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

Status fsync_dir(const std::string& dir) {
  BTFD_TRY(UniqueFd fd, open_file(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) < 0) return sys_error(errno, "fsync \"" + dir + "\"");
  return {};
}

// The temp file's suffix: ".tmp." and a random unsigned int in decimal
// (is_atomic_temp_name() recognises exactly these names).
constexpr std::string_view kAtomicTempInfix = ".tmp.";
constexpr size_t kAtomicTempMaxDigits = std::numeric_limits<unsigned int>::digits10 + 1;

bool is_atomic_temp_name(std::string_view entry, std::string_view target) {
  if (target.empty() || !entry.starts_with(target)) return false;
  std::string_view rest = entry.substr(target.size());
  if (!rest.starts_with(kAtomicTempInfix)) return false;
  std::string_view digits = rest.substr(kAtomicTempInfix.size());
  if (digits.empty() || digits.size() > kAtomicTempMaxDigits) return false;
  for (char c : digits)
    if (c < '0' || c > '9') return false;
  return true;
}

Status write_file_atomic(const std::string& path, std::span<const uint8_t> data, mode_t mode, bool durable) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  std::random_device rd;
  std::string tmp = path + std::string(kAtomicTempInfix) + std::to_string(rd());
  {
    BTFD_TRY(UniqueFd fd, open_file(tmp, O_WRONLY | O_CREAT | O_EXCL, mode));
    Status st = write_all(fd.get(), data);
    if (st.ok() && durable && ::fsync(fd.get()) < 0) st = sys_error(errno, "fsync \"" + tmp + "\"");
    if (!st) {
      ::unlink(tmp.c_str());
      return std::move(st).error().wrap("\"" + path + "\"");
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return sys_error(err, "rename to \"" + path + "\"");
  }
  return durable ? fsync_dir(dir) : Status();
}

Status mkdir_p(const std::string& path, mode_t mode) {
  if (path.empty()) return make_error(Errc::invalid_argument, "empty directory path");
  for (size_t pos = 1;; ++pos) {
    pos = path.find('/', pos);
    std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), mode) < 0 && errno != EEXIST)
      return sys_error(errno, "cannot create \"" + part + "\"");
    if (pos == std::string::npos) break;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) return sys_error(errno, "stat \"" + path + "\"");
  if (!S_ISDIR(st.st_mode)) return make_error(Errc::invalid_argument, "\"" + path + "\" is not a directory");
  return {};
}

Result<uint64_t> file_size(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return sys_error(errno, "fstat");
  return static_cast<uint64_t>(st.st_size);
}

bool path_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

}  // namespace btfd
