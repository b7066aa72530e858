// SPDX-License-Identifier: LGPL-2.1-or-later
#include "util/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <utility>

#include "util/fd.hpp"

namespace btfd {

Result<MappedFile> MappedFile::open(const std::string& path, size_t max_bytes) {
  BTFD_TRY(UniqueFd fd, open_file(path, O_RDONLY));
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) return sys_error(errno, "cannot stat \"" + path + "\"");
  MappedFile f;
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    if (static_cast<uint64_t>(st.st_size) > max_bytes)
      return make_error(Errc::too_large, "\"" + path + "\" is larger than " + std::to_string(max_bytes) + " bytes");
    size_t len = static_cast<size_t>(st.st_size);
    // Populated at once: one pass over the page cache, not a fault per page.
    void* p = ::mmap(nullptr, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd.get(), 0);
    if (p != MAP_FAILED) {
      f.map_ = p;
      f.len_ = len;
      return f;
    }
  }
  // Not a regular file, empty as far as stat says (/proc), or not mappable.
  BTFD_TRY(f.read_, read_file(path, max_bytes));
  return f;
}

MappedFile::MappedFile(MappedFile&& o) noexcept
    : map_(std::exchange(o.map_, nullptr)), len_(std::exchange(o.len_, 0)), read_(std::move(o.read_)) {}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (map_) ::munmap(map_, len_);
    map_ = std::exchange(o.map_, nullptr);
    len_ = std::exchange(o.len_, 0);
    read_ = std::move(o.read_);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (map_) ::munmap(map_, len_);
}

std::span<const uint8_t> MappedFile::bytes() const {
  if (map_) return {static_cast<const uint8_t*>(map_), len_};
  return read_;
}

}  // namespace btfd
