// SPDX-License-Identifier: GPL-2.0-or-later
// What a killed btfd left in the cache directory goes at the next start; what
// a live btfd holds (its lock) stays, and nothing else is touched.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "debuginfo/temp_files.hpp"
#include "support/temp_dir.hpp"
#include "util/fd.hpp"

using namespace btfd;
using namespace btfd::debuginfo;

namespace {
bool exists(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}
}  // namespace

TEST_CASE("stale debug-info temp files are removed, locked ones and other files kept") {
  test::TempDir dir;
  // Left by a killed btfd: a download, and pahole's directory with its output.
  test::write_text(dir / ".debuginfod-stale1", "half a debug file");
  REQUIRE(::mkdir((dir / ".pahole-stale2").c_str(), 0700) == 0);
  test::write_text(dir / ".pahole-stale2/out.btf", "half a BTF");
  test::write_text(dir / ".pahole-stale2/out.btf.tmp", "pahole's own temp");
  // In use by a live btfd: locked through its own open file.
  test::write_text(dir / ".debuginfod-live", "downloading");
  UniqueFd live(::open((dir / ".debuginfod-live").c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(live);
  REQUIRE(lock_in_use(live.get()));
  REQUIRE(::mkdir((dir / ".pahole-live").c_str(), 0700) == 0);
  UniqueFd live_dir(::open((dir / ".pahole-live").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(lock_in_use(live_dir.get()));
  // Not btfd's temp files: kept whatever their lock.
  test::write_text(dir / "index.sqlite", "db");
  REQUIRE(::symlink("/etc/passwd", (dir / ".debuginfod-link").c_str()) == 0);

  CHECK(remove_stale_temps(dir.path()) == 2);
  CHECK_FALSE(exists(dir / ".debuginfod-stale1"));
  CHECK_FALSE(exists(dir / ".pahole-stale2"));
  CHECK(exists(dir / ".debuginfod-live"));
  CHECK(exists(dir / ".pahole-live"));
  CHECK(exists(dir / "index.sqlite"));
  CHECK(exists(dir / ".debuginfod-link"));  // never followed, never removed
  CHECK(exists("/etc/passwd"));
  // Once the live btfd lets go, they are stale too.
  live.reset();
  live_dir.reset();
  CHECK(remove_stale_temps(dir.path()) == 2);
  CHECK_FALSE(exists(dir / ".debuginfod-live"));
  CHECK_FALSE(exists(dir / ".pahole-live"));
  CHECK(remove_stale_temps(dir / "missing") == 0);
}
