// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The temp files debug info needs in the cache directory — a debug file being
// downloaded (up to [Debuginfod] MaxSize=), pahole's output directory — are
// flock(2)ed while in use. What a killed btfd left behind holds no lock: the
// next start removes it, while another btfd's live ones stay (a lock taken
// and held is what says "in use", not the file's age).

#include <string>

#include "util/fd.hpp"
#include "util/result.hpp"

namespace btfd::debuginfo {

inline constexpr const char* kDownloadPrefix = ".debuginfod-";
inline constexpr const char* kPahoPrefix = ".pahole-";

// Locks a temp file or directory just made (fd open on it) for as long as fd stays open.
Status lock_in_use(int fd);

// Removes the leftovers in dir no one holds a lock on; returns how many went.
size_t remove_stale_temps(const std::string& dir);

}  // namespace btfd::debuginfo
