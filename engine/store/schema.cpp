// SPDX-License-Identifier: GPL-2.0-or-later
// The cache index schema. Each version is one migration step applied in order
// inside a transaction, and PRAGMA user_version records the version reached.
//
// History:
//   version 1: blobs (content-addressed files), kernels (full BTF per kernel
//              identity), minimized (per kernel digest x object set), objects
//              (bytes clients asked about, for pre-minimizing new kernels),
//              negative ("not in hub" with retry-after).
//   version 2: indexes for bounded maintenance: blob references by digest
//              (eviction asks "does anything still name this blob?" per
//              victim), objects by request time (their eviction order) and
//              negative entries by expiry (collected on every put_negative).
//   version 3: negative entries name the mirror list that answered (a
//              fingerprint): "not in hub" from one list says nothing about
//              another. Older rows, from an unknown list, are dropped.
//   version 4: objects remember the file name a client last gave them
//              (GetBtf "names"), so ListKernels can show more than a digest.
//   version 5: objects remember the uid that last sent them, so each uid's
//              remembered objects are bounded (count and bytes; the oldest go).
//              Older rows belong to no uid (-1) and count against none.
//   version 6: the budget counts the index too: a one-row table `totals`
//              holds the blob bytes and every row's estimated size, kept
//              exact by triggers on each table (see kRowCosts), so usage is a
//              point read however many rows there are. Older rows are counted
//              when the step runs. (INSERT OR REPLACE fires the delete
//              triggers only with PRAGMA recursive_triggers, which open_index
//              turns on for every connection.)
#include "store/schema.hpp"

#include <string>

namespace btfd::store {
namespace {

// Version 6's estimate of one row's bytes in the index file, as SQL over the
// row ('@' stands for its prefix: NEW., OLD. or nothing). Text columns count
// their bytes, twice where an index repeats them; kRowOverhead stands for the
// integers, record headers, rowids and the B-tree pages' free space. (Measured
// on SQLite 3.40, 20000 rows of each table with random digests: the file grew
// by 158-552 bytes a row, and these give 192-512, within 20% for every table.)
struct RowCost {
  const char* table;
  const char* cost;
  const char* text_columns;  // the triggers fire on updates of these
};
#define BTFD_LEN(c) "length(CAST(@" c " AS BLOB))"
constexpr RowCost kRowCosts[] = {
    {"blobs", "2 * " BTFD_LEN("digest"), "digest, size"},
    {"kernels",
     "2 * (" BTFD_LEN("distro") " + " BTFD_LEN("version") " + " BTFD_LEN("arch") " + " BTFD_LEN("release") " + "
     BTFD_LEN("digest") ") + " BTFD_LEN("source") " + " BTFD_LEN("origin"),
     "distro, version, arch, release, digest, source, origin"},
    {"minimized",
     "2 * (" BTFD_LEN("kernel_digest") " + " BTFD_LEN("objects_key") " + " BTFD_LEN("digest") ") + "
     BTFD_LEN("objects") " + " BTFD_LEN("report"),
     "kernel_digest, objects_key, objects, digest, report"},
    {"objects", "2 * " BTFD_LEN("digest") " + " BTFD_LEN("name"), "digest, name"},
    {"negative",
     "2 * (" BTFD_LEN("distro") " + " BTFD_LEN("version") " + " BTFD_LEN("arch") " + " BTFD_LEN("release") ") + "
     BTFD_LEN("reason") " + " BTFD_LEN("mirrors"),
     "distro, version, arch, release, reason, mirrors"},
};
#undef BTFD_LEN

std::string row_cost(const RowCost& t, const std::string& prefix) {
  std::string out = "(";
  for (const char* c = t.cost; *c; ++c) {
    if (*c == '@') out += prefix;
    else out += *c;
  }
  return out + " + " + std::to_string(kRowOverhead) + ")";
}

// 5 -> 6, built from kRowCosts so that the initial sums and every trigger
// use one formula per table.
std::string totals_step() {
  std::string sql = R"sql(
CREATE TABLE totals (
  id INTEGER PRIMARY KEY CHECK (id = 0),
  blob_bytes INTEGER NOT NULL,   -- SUM(blobs.size)
  row_bytes INTEGER NOT NULL     -- every row's estimated bytes in this file
);
INSERT INTO totals VALUES (0, (SELECT COALESCE(SUM(size), 0) FROM blobs), 0)sql";
  for (const auto& t : kRowCosts)
    sql += std::string(" + (SELECT COALESCE(SUM") + row_cost(t, "") + ", 0) FROM " + t.table + ")";
  sql += ");\n";
  for (const auto& t : kRowCosts) {
    bool blobs = std::string(t.table) == "blobs";
    std::string add = "row_bytes = row_bytes + " + row_cost(t, "NEW.");
    std::string drop = "row_bytes = row_bytes - " + row_cost(t, "OLD.");
    std::string change = "row_bytes = row_bytes - " + row_cost(t, "OLD.") + " + " + row_cost(t, "NEW.");
    if (blobs) {
      add += ", blob_bytes = blob_bytes + NEW.size";
      drop += ", blob_bytes = blob_bytes - OLD.size";
      change += ", blob_bytes = blob_bytes - OLD.size + NEW.size";
    }
    std::string table = t.table;
    sql += "CREATE TRIGGER " + table + "_counted_add AFTER INSERT ON " + table + " BEGIN UPDATE totals SET " + add +
           "; END;\n";
    sql += "CREATE TRIGGER " + table + "_counted_drop AFTER DELETE ON " + table + " BEGIN UPDATE totals SET " + drop +
           "; END;\n";
    sql += "CREATE TRIGGER " + table + "_counted_change AFTER UPDATE OF " + t.text_columns + " ON " + table +
           " BEGIN UPDATE totals SET " + change + "; END;\n";
  }
  return sql;
}

const char* const kSteps[] = {
    // 0 -> 1
    R"sql(
CREATE TABLE blobs (
  digest TEXT PRIMARY KEY,       -- sha256 hex; the file is blobs/<digest>
  size INTEGER NOT NULL
);
CREATE TABLE kernels (
  distro TEXT NOT NULL, version TEXT NOT NULL, arch TEXT NOT NULL, release TEXT NOT NULL,
  source TEXT NOT NULL,          -- native | hub | file (| debuginfo: a value, no new step)
  origin TEXT NOT NULL,          -- URL or path it came from
  digest TEXT NOT NULL REFERENCES blobs(digest),
  fetched_at INTEGER NOT NULL,
  last_used INTEGER NOT NULL,
  pinned INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (distro, version, arch, release)
);
CREATE TABLE minimized (
  kernel_digest TEXT NOT NULL,
  objects_key TEXT NOT NULL,     -- sha256 of the sorted object digests
  objects TEXT NOT NULL,         -- the sorted object digests, comma separated
  digest TEXT NOT NULL REFERENCES blobs(digest),
  report TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used INTEGER NOT NULL,
  PRIMARY KEY (kernel_digest, objects_key)
);
CREATE TABLE objects (
  digest TEXT PRIMARY KEY REFERENCES blobs(digest),
  last_requested INTEGER NOT NULL
);
CREATE TABLE negative (
  distro TEXT NOT NULL, version TEXT NOT NULL, arch TEXT NOT NULL, release TEXT NOT NULL,
  retry_after INTEGER NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (distro, version, arch, release)
);
CREATE INDEX kernels_lru ON kernels(last_used);
CREATE INDEX minimized_lru ON minimized(last_used);
)sql",
    // 1 -> 2
    R"sql(
CREATE INDEX kernels_digest ON kernels(digest);
CREATE INDEX minimized_digest ON minimized(digest);
CREATE INDEX objects_lru ON objects(last_requested);
CREATE INDEX negative_expiry ON negative(retry_after);
)sql",
    // 2 -> 3
    R"sql(
DELETE FROM negative;
ALTER TABLE negative ADD COLUMN mirrors TEXT NOT NULL DEFAULT '';
)sql",
    // 3 -> 4
    R"sql(
ALTER TABLE objects ADD COLUMN name TEXT NOT NULL DEFAULT '';
)sql",
    // 4 -> 5
    R"sql(
ALTER TABLE objects ADD COLUMN uid INTEGER NOT NULL DEFAULT -1;
CREATE INDEX objects_uid ON objects(uid, last_requested);
)sql",
    // 5 -> 6: totals_step()
    nullptr,
};

Result<int> user_version(Db& db) {
  BTFD_TRY(Stmt s, db.prepare("PRAGMA user_version"));
  BTFD_TRY(bool row, s.step());
  return row ? static_cast<int>(s.int64(0)) : 0;
}

}  // namespace

Status migrate(Db& db) {
  static_assert(std::size(kSteps) == kSchemaVersion);
  BTFD_TRY(int v, user_version(db));
  if (v > kSchemaVersion)
    return make_error(Errc::unsupported, "cache index has schema version " + std::to_string(v) +
                                             ", newer than this btfd understands (" +
                                             std::to_string(kSchemaVersion) + ")");
  for (; v < kSchemaVersion; ++v) {
    BTFD_TRY(Transaction tx, Transaction::begin(db));
    static const std::string totals = totals_step();
    BTFD_TRY_VOID(db.exec(kSteps[v] ? kSteps[v] : totals.c_str()));
    BTFD_TRY_VOID(db.exec(("PRAGMA user_version = " + std::to_string(v + 1)).c_str()));
    BTFD_TRY_VOID(tx.commit());
  }
  return {};
}

}  // namespace btfd::store
