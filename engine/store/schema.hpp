// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
#include <cstdint>

#include "store/sqlite_db.hpp"

namespace btfd::store {

inline constexpr int kSchemaVersion = 6;

// What every row costs in the budget on top of its text (schema.cpp's
// kRowCosts says what it stands for and how it was measured).
inline constexpr uint64_t kRowOverhead = 64;
// The estimate schema 6 keeps for a row not written yet, for the checks made
// before a write (the triggers count the real row): a blob's row, and a
// minimized row given the bytes of its object list and report.
inline constexpr uint64_t kBlobRowBytes = 2 * 64 + kRowOverhead;
inline constexpr uint64_t minimized_row_bytes(uint64_t objects_text, uint64_t report) {
  return 2 * (64 + 64 + 64) + objects_text + report + kRowOverhead;
}

// Brings the index to kSchemaVersion one step at a time; refuses newer schemas.
Status migrate(Db& db);

}  // namespace btfd::store
