// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The cache index file (<dir>/index.sqlite): opened, configured, checked and
// migrated; a damaged one is moved aside and replaced by an empty index, so a
// damaged cache costs its contents, never the BTF service.

#include <cstdint>
#include <string>

#include "store/sqlite_db.hpp"

namespace btfd::store {

inline constexpr const char* kIndexName = "index.sqlite";
// Damaged indexes are kept for inspection as <index>.damaged-<unix time>
// (with their -wal/-shm files); only the most recent one is kept.
inline constexpr const char* kDamagedInfix = ".damaged-";

struct OpenedIndex {
  Db db;
  // Empty, or what was wrong with the previous index and where it went.
  std::string repaired;
};

// Opens the index, ready for use (WAL, synchronous=FULL, current schema). An
// index SQLite cannot read, whose PRAGMA quick_check fails or that fails as
// damaged while being configured is moved aside and rebuilt empty. Other
// failures (permissions, a newer schema) are returned: they are not damage,
// and rebuilding would throw away a good cache.
Result<OpenedIndex> open_index(const std::string& dir, int64_t now);

// Moves <dir>/index.sqlite and its -wal/-shm aside as damaged-<now>, removing
// older damaged copies. Returns the new name of the index file.
Result<std::string> move_index_aside(const std::string& dir, int64_t now);

}  // namespace btfd::store
