// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Helpers shared by the store's self-healing and bounds tests.

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "support/temp_dir.hpp"

namespace btfd::store::testing {

inline std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }
inline KernelIdentity kid(const std::string& release) { return {"ubuntu", "20.04", "x86_64", release}; }

inline std::unique_ptr<Store> open_store(const std::string& dir, uint64_t budget = 1 << 20,
                                         uint64_t max_negative = 4096) {
  auto s = Store::open({dir, budget, max_negative});
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  return std::move(s).value();
}

inline std::string read_fd(int fd) {
  auto b = pread_all(fd, 1 << 24);
  REQUIRE(b.ok());
  return std::string(b->begin(), b->end());
}

inline size_t count_files(const std::string& dir, const std::string& prefix = "") {
  size_t n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0) ++n;
  return n;
}

// Rows of a table, read through a connection of the test's own.
inline int64_t count_rows(const std::string& dir, const std::string& table) {
  auto db = Db::open(dir + "/index.sqlite");
  REQUIRE(db.ok());
  std::string sql = "SELECT COUNT(*) FROM " + table;
  auto s = db->prepare(sql.c_str());
  REQUIRE(s.ok());
  auto row = s->step();
  REQUIRE(row.ok());
  return *row ? s->int64(0) : -1;
}

// Back to what schema version 5 left: no totals table and no triggers
// counting rows (schema 6). Older versions' tests go on from here.
inline void back_to_schema5(Db& db) {
  std::vector<std::string> triggers;
  {
    auto s = db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'");
    REQUIRE(s.ok());
    for (;;) {
      auto row = s->step();
      REQUIRE(row.ok());
      if (!*row) break;
      triggers.push_back(s->text(0));
    }
  }
  CHECK(triggers.size() == 15);  // insert, delete and update of five tables
  for (const auto& t : triggers) REQUIRE(db.exec(("DROP TRIGGER " + t).c_str()).ok());
  REQUIRE(db.exec("DROP TABLE totals").ok());
  REQUIRE(db.exec("PRAGMA user_version = 5").ok());
}

}  // namespace btfd::store::testing
