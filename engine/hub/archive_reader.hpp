// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Unpacks a btfhub-archive tarball (.tar.xz or .tar.gz) holding exactly one
// regular file "<release>.btf". Everything else is refused: path traversal,
// absolute names, links, devices, extra entries, output past a size cap.
// Ownership and modes in the archive are ignored; content is streamed.

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "util/result.hpp"

namespace btfd::hub {

// The largest kernel BTF accepted from a mirror. The largest kernel in
// btfhub-archive is ~44 MB raw; three times that leaves room for growth while a
// small archive that unpacks to hundreds of MB (padding, a bomb) is refused
// before it is stored.
inline constexpr uint64_t kMaxKernelBtfBytes = 128ull << 20;

struct ExtractLimits {
  uint64_t max_output_bytes = kMaxKernelBtfBytes;  // the unpacked BTF; also the decompression-bomb cap
  int max_entries = 16;                      // stop scanning junk archives early
};

// Reads the archive from in_fd (from its start) and writes the BTF to out_fd.
// Returns the number of bytes written.
Result<uint64_t> extract_btf(int in_fd, const std::string& release, int out_fd, const ExtractLimits& limits);
// Where a streamed archive's bytes come from: fills buf with what there is
// (waiting for more if need be) and says how many bytes (0: the end), or why
// there will be no more (a download that failed).
using ArchiveSource = std::function<Result<size_t>(std::span<uint8_t> buf)>;
// The same, read from a source as it arrives (unpacked while it downloads).
// A source's error is returned as it is, not as a bad archive.
Result<uint64_t> extract_btf_streamed(const ArchiveSource& source, const std::string& release, int out_fd,
                                      const ExtractLimits& limits);
// The same from memory (for the fuzzer and unit tests).
Result<uint64_t> extract_btf_from_memory(std::span<const uint8_t> archive, const std::string& release, int out_fd,
                                         const ExtractLimits& limits);

}  // namespace btfd::hub
