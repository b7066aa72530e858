// SPDX-License-Identifier: GPL-2.0-or-later
#include "store/index_file.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "store/schema.hpp"
#include "util/fd.hpp"

namespace btfd::store {
namespace {

// Opens and configures; *damage is set (and an error returned) when the file
// turns out to be damaged, as opposed to unusable for another reason.
Result<Db> open_checked(const std::string& path, std::string* damage) {
  BTFD_TRY(Db db, Db::open(path));
  auto fail = [&](Error e) -> Error {
    if (db.damaged()) *damage = e.message;
    return e;
  };
  // WAL: readers never block the writer; synchronous=FULL makes each commit durable,
  // which the crash guarantees rely on. recursive_triggers: the rows an INSERT
  // OR REPLACE deletes must fire their delete triggers, or the totals (schema
  // 6) would count a replaced row twice.
  if (auto st = db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF; "
                        "PRAGMA recursive_triggers=ON;");
      !st)
    return fail(std::move(st).error());
  // quick_check reads every page (O(size), no index cross-checks): a torn or
  // overwritten file shows here, at open, instead of as a failing query later.
  {
    auto s = db.prepare("PRAGMA quick_check");
    if (!s) return fail(std::move(s).error());
    auto row = s->step();
    if (!row) return fail(std::move(row).error());
    if (!*row || s->text(0) != "ok") {
      *damage = "quick_check: " + (*row ? s->text(0) : std::string("no answer"));
      return make_error(Errc::io, "cache index \"" + path + "\" is damaged: " + *damage);
    }
  }
  if (auto st = migrate(db); !st) return fail(std::move(st).error());
  return db;
}

}  // namespace

Result<std::string> move_index_aside(const std::string& dir, int64_t now) {
  // Older damaged copies go first: at most one is kept, so repeated damage
  // cannot fill the disk.
  std::string prefix = std::string(kIndexName) + kDamagedInfix;
  if (DIR* d = ::opendir(dir.c_str())) {
    std::vector<std::string> old;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.rfind(prefix, 0) == 0) old.push_back(std::move(name));
    }
    ::closedir(d);
    for (const auto& name : old) ::unlink((dir + "/" + name).c_str());
  }
  std::string index = dir + "/" + kIndexName;
  std::string aside = index + kDamagedInfix + std::to_string(now);
  if (::rename(index.c_str(), aside.c_str()) < 0 && errno != ENOENT)
    return sys_error(errno, "cannot move the damaged cache index \"" + index + "\" aside");
  for (const char* suffix : {"-wal", "-shm"}) {
    std::string from = index + suffix;
    if (::rename(from.c_str(), (aside + suffix).c_str()) < 0 && errno != ENOENT)
      return sys_error(errno, "cannot move \"" + from + "\" aside");
  }
  BTFD_TRY_VOID(fsync_dir(dir));
  return aside;
}

Result<OpenedIndex> open_index(const std::string& dir, int64_t now) {
  std::string path = dir + "/" + kIndexName;
  std::string damage;
  auto db = open_checked(path, &damage);
  if (db) return OpenedIndex{std::move(db).value(), {}};
  if (damage.empty()) return std::move(db).error();
  BTFD_TRY(std::string aside, move_index_aside(dir, now));
  std::string damage_again;
  auto fresh = open_checked(path, &damage_again);
  if (!fresh) return std::move(fresh).error().wrap("cannot rebuild the cache index \"" + path + "\"");
  return OpenedIndex{std::move(fresh).value(),
                     "cache index \"" + path + "\" was damaged (" + damage + "); moved to \"" + aside +
                         "\" and rebuilt empty"};
}

}  // namespace btfd::store
