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
#include "store/schema.hpp"

#include <string>

namespace btfd::store {
namespace {

const char* const kSteps[] = {
    // 0 -> 1
    R"sql(
CREATE TABLE blobs (
  digest TEXT PRIMARY KEY,       -- sha256 hex; the file is blobs/<digest>
  size INTEGER NOT NULL
);
CREATE TABLE kernels (
  distro TEXT NOT NULL, version TEXT NOT NULL, arch TEXT NOT NULL, release TEXT NOT NULL,
  source TEXT NOT NULL,          -- native | hub | file
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
    BTFD_TRY_VOID(db.exec(kSteps[v]));
    BTFD_TRY_VOID(db.exec(("PRAGMA user_version = " + std::to_string(v + 1)).c_str()));
    BTFD_TRY_VOID(tx.commit());
  }
  return {};
}

}  // namespace btfd::store
