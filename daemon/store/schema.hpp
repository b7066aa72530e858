// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
#include "store/sqlite_db.hpp"

namespace btfd::store {

inline constexpr int kSchemaVersion = 5;

// Brings the index to kSchemaVersion one step at a time; refuses newer schemas.
Status migrate(Db& db);

}  // namespace btfd::store
