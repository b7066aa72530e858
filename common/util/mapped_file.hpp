// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once
// A file's bytes for reading once: a regular file mapped read-only (no
// buffer zeroed and copied into, no fresh pages faulted in one by one), any
// other file (a pipe, /dev/stdin) read into memory. For the user's own files
// in a short-lived tool: a file truncated while mapped faults the reader
// (SIGBUS), as libelf's and libbpf's mapped reads do. btfd's daemon never
// maps a file a client controls this way.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace btfd {

class MappedFile {
 public:
  // Fails with Errc::too_large past max_bytes; errors name the path.
  static Result<MappedFile> open(const std::string& path, size_t max_bytes);
  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  // Page-aligned when mapped, heap-aligned when read.
  std::span<const uint8_t> bytes() const;
  bool mapped() const { return map_ != nullptr; }

 private:
  void* map_ = nullptr;
  size_t len_ = 0;
  std::vector<uint8_t> read_;  // when the file could not be mapped
};

}  // namespace btfd
