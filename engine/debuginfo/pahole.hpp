// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// pahole (dwarves) as a bounded child: it reads DWARF (hundreds of MB for a
// kernel) and writes BTF, in an address space of its own, under an address
// space and CPU limit, a file size limit for what it writes and a wall-clock
// deadline, with its stderr kept to a bounded tail. A pahole that is killed,
// times out or fails is a named error; its output is not read then.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace btfd::debuginfo {

struct PaholeOptions {
  std::string path = "/usr/bin/pahole";
  uint64_t memory_bytes = 1536ull << 20;          // RLIMIT_AS
  std::chrono::seconds wall{600};                 // deadline; also RLIMIT_CPU
  uint64_t max_output = 128ull << 20;             // RLIMIT_FSIZE: the BTF it may write
  size_t stderr_bytes = 4096;                     // the tail of its stderr kept for errors
  std::string tmp_dir;                            // where its output file is made (the cache's)
};

// pahole --btf_encode_detached for debug_file; base_btf (non-empty): split
// BTF over that base (--btf_base), for a module. The BTF's bytes (not yet
// validated: the caller does that).
Result<std::vector<uint8_t>> run_pahole(const PaholeOptions& o, const std::string& debug_file,
                                        const std::string& base_btf = "");

// `pahole --version` ("v1.24"), under the same limits (a few seconds).
Result<std::string> pahole_version(const PaholeOptions& o);

// Kills every pahole still running and refuses to start more (btfd stopping
// past its bound). One-way.
void cancel_running_pahole();

}  // namespace btfd::debuginfo
