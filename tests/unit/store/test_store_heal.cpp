// SPDX-License-Identifier: GPL-2.0-or-later
// The cache heals itself: a damaged index is moved aside and rebuilt, a blob
// changed on disk after it was verified is hashed again before it is served,
// and verify_all() finds damage nobody asked about yet.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "store_fixture.hpp"

using namespace btfd;
using namespace btfd::store;
using namespace btfd::store::testing;

namespace {

// Fills an index and its blobs, then closes the store (the WAL is checkpointed
// into index.sqlite on close).
void fill(const std::string& dir) {
  auto s = open_store(dir);
  for (int i = 0; i < 40; ++i)
    REQUIRE(s->put_kernel(kid("r" + std::to_string(i)), bytes_of("kernel " + std::to_string(i)), Source::hub,
                          "http://mirror/" + std::string(200, 'x'), false)
                .ok());
}

void check_rebuilt(const test::TempDir& dir) {
  auto s = open_store(dir.path());
  Usage u = s->usage();
  CHECK(u.index_rebuilt == 1);
  CHECK(u.index_note.find("damaged") != std::string::npos);
  CHECK(u.kernels == 0);
  // The damaged file is kept for inspection, and the old blobs do not leak.
  CHECK(count_files(dir.path(), "index.sqlite.damaged-") == 1);
  CHECK(count_files(dir / "blobs") == 0);
  CHECK(u.recovered_orphans == 40);
  REQUIRE(s->put_kernel(kid("new"), bytes_of("fresh"), Source::hub, "", false).ok());
  auto hit = s->find_kernel(kid("new"));
  REQUIRE(hit.ok());
  REQUIRE(hit->has_value());
  CHECK(read_fd((*hit)->second.fd.get()) == "fresh");
}

void modify_in_place(const std::string& path, const std::string& text) {
  // Timestamps are kept at the kernel's clock tick: let one pass so the write
  // is visible in mtime/ctime, as any later change in a running daemon is.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()));
  ::close(fd);
}

}  // namespace

TEST_CASE("an index truncated to half is moved aside and rebuilt") {
  test::TempDir dir;
  fill(dir.path());
  std::string index = dir / "index.sqlite";
  auto size = std::filesystem::file_size(index);
  REQUIRE(size > 8192);
  REQUIRE(::truncate(index.c_str(), static_cast<off_t>(size / 2)) == 0);
  check_rebuilt(dir);
}

TEST_CASE("an index overwritten with garbage is moved aside and rebuilt") {
  test::TempDir dir;
  fill(dir.path());
  std::string garbage(64 * 1024, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 7919) >> 3);
  test::write_text(dir / "index.sqlite", garbage);
  check_rebuilt(dir);
  // A second damage replaces the first damaged copy rather than adding one.
  test::write_text(dir / "index.sqlite", garbage);
  auto s = open_store(dir.path());
  CHECK(s->usage().index_rebuilt == 1);
  CHECK(count_files(dir.path(), "index.sqlite.damaged-") == 1);
}

TEST_CASE("a newer schema is still refused, not rebuilt") {
  test::TempDir dir;
  fill(dir.path());
  {
    auto db = Db::open(dir / "index.sqlite");
    REQUIRE(db.ok());
    REQUIRE(db->exec("PRAGMA user_version = 99").ok());
  }
  auto s = Store::open({dir.path(), 1 << 20});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == Errc::unsupported);
  CHECK(count_files(dir.path(), "index.sqlite.damaged-") == 0);
}

TEST_CASE("SQLite's damage and disk-full codes map to io (flagged) and no_space") {
  bool damaged = false;
  Error e = sqlite_failure(nullptr, SQLITE_CORRUPT, &damaged, "x");
  CHECK(e.code == Errc::io);
  CHECK(damaged);
  CHECK(e.message.find("damaged") != std::string::npos);
  damaged = false;
  CHECK(sqlite_failure(nullptr, SQLITE_NOTADB, &damaged, "x").code == Errc::io);
  CHECK(damaged);
  CHECK(sqlite_failure(nullptr, SQLITE_FULL, nullptr, "x").code == Errc::no_space);
  CHECK(sqlite_failure(nullptr, SQLITE_IOERR_WRITE, nullptr, "x").code == Errc::io);
}

TEST_CASE("a blob changed in place after it was verified is hashed again, not served") {
  test::TempDir dir;
  auto s = open_store(dir.path());
  auto e = s->put_kernel(kid("a"), bytes_of("good content"), Source::hub, "", false);
  REQUIRE(e.ok());
  for (bool fast : {false, true}) {  // verified and remembered; then served from memory
    auto hit = s->find_kernel(kid("a"), fast);
    REQUIRE(hit.ok());
    REQUIRE(hit->has_value());
  }
  std::string p = dir / ("blobs/" + to_hex(e->digest));
  modify_in_place(p, "good cOntent");  // same size, same inode
  auto fast = s->find_kernel(kid("a"), true);
  REQUIRE_FALSE(fast.ok());  // the loop must not hash: it is sent to a worker
  CHECK(fast.error().code == Errc::busy);
  auto slow = s->find_kernel(kid("a"));
  REQUIRE(slow.ok());
  CHECK_FALSE(slow->has_value());
  CHECK(s->usage().corrupt_blobs == 1);
  CHECK(s->usage().kernels == 0);
  CHECK_FALSE(std::filesystem::exists(p));
}

TEST_CASE("a blob replaced by rename after it was verified is not served") {
  test::TempDir dir;
  auto s = open_store(dir.path());
  auto e = s->put_kernel(kid("a"), bytes_of("good content"), Source::hub, "", false);
  REQUIRE(e.ok());
  REQUIRE(s->find_kernel(kid("a")).ok());
  std::string p = dir / ("blobs/" + to_hex(e->digest));
  test::write_text(dir / "evil", "evil content");  // same size, new inode
  REQUIRE(::rename((dir / "evil").c_str(), p.c_str()) == 0);
  auto fast = s->find_kernel(kid("a"), true);
  REQUIRE_FALSE(fast.ok());
  CHECK(fast.error().code == Errc::busy);
  auto slow = s->find_kernel(kid("a"));
  REQUIRE(slow.ok());
  CHECK_FALSE(slow->has_value());
  CHECK(s->usage().corrupt_blobs == 1);
}

TEST_CASE("a blob touched but unchanged is hashed again once, then served from memory") {
  test::TempDir dir;
  auto s = open_store(dir.path());
  auto e = s->put_kernel(kid("a"), bytes_of("good content"), Source::hub, "", false);
  REQUIRE(e.ok());
  REQUIRE(s->find_kernel(kid("a")).ok());
  modify_in_place(dir / ("blobs/" + to_hex(e->digest)), "good");  // the same bytes again
  auto fast = s->find_kernel(kid("a"), true);
  REQUIRE_FALSE(fast.ok());
  CHECK(fast.error().code == Errc::busy);
  auto slow = s->find_kernel(kid("a"));
  REQUIRE(slow.ok());
  REQUIRE(slow->has_value());
  auto again = s->find_kernel(kid("a"), true);
  REQUIRE(again.ok());
  REQUIRE(again->has_value());
  CHECK(read_fd((*again)->second.fd.get()) == "good content");
  CHECK(s->usage().corrupt_blobs == 0);
}

TEST_CASE("a minimized blob changed after it was verified is not served") {
  test::TempDir dir;
  auto s = open_store(dir.path());
  Digest k = sha256(bytes_of("kernel")), o = sha256(bytes_of("o"));
  auto b = s->put_minimized(k, {o}, bytes_of("minimized"), "{}");
  REQUIRE(b.ok());
  auto hit = s->find_minimized(k, {o});
  REQUIRE(hit.ok());
  REQUIRE(hit->has_value());
  modify_in_place(b->path, "MINIMIZED");
  auto after = s->find_minimized(k, {o});
  REQUIRE(after.ok());
  CHECK_FALSE(after->has_value());
  CHECK(s->usage().corrupt_blobs == 1);
}

TEST_CASE("verify_all re-hashes every blob and drops the corrupt ones") {
  test::TempDir dir;
  auto s = open_store(dir.path());
  std::vector<Digest> ds;
  uint64_t total = 0;
  for (int i = 0; i < 150; ++i) {  // more than one batch
    std::string text = "kernel number " + std::to_string(1000 + i);
    auto e = s->put_kernel(kid("r" + std::to_string(i)), bytes_of(text), Source::hub, "", false);
    REQUIRE(e.ok());
    ds.push_back(e->digest);
    total += text.size();
  }
  // Damage nobody has looked at: in place, by rename, and a missing file.
  modify_in_place(dir / ("blobs/" + to_hex(ds[3])), "K");
  test::write_text(dir / "evil", "kernel number 9999");
  REQUIRE(::rename((dir / "evil").c_str(), (dir / ("blobs/" + to_hex(ds[70]))).c_str()) == 0);
  REQUIRE(::unlink((dir / ("blobs/" + to_hex(ds[140]))).c_str()) == 0);
  auto r = s->verify_all();
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  CHECK(r->checked == 150);
  CHECK(r->corrupt == 3);
  CHECK(r->bytes == total - 18);  // the missing file is not hashed
  Usage u = s->usage();
  CHECK(u.kernels == 147);
  CHECK(u.corrupt_blobs == 3);
  CHECK(count_files(dir / "blobs") == 147);
  auto gone = s->find_kernel(kid("r3"));
  REQUIRE(gone.ok());
  CHECK_FALSE(gone->has_value());
  // What verify_all hashed is served without hashing again.
  auto fast = s->find_kernel(kid("r4"), true);
  REQUIRE(fast.ok());
  CHECK(fast->has_value());
  auto clean = s->verify_all();
  REQUIRE(clean.ok());
  CHECK(clean->checked == 147);
  CHECK(clean->corrupt == 0);
}

TEST_CASE("an index damaged while the daemon runs fails with io, then is rebuilt by maintenance") {
  test::TempDir dir;
  auto s = open_store(dir.path());
  for (int i = 0; i < 40; ++i)
    REQUIRE(s->put_kernel(kid("r" + std::to_string(i)), bytes_of("kernel " + std::to_string(i)), Source::hub,
                          std::string(300, 'o'), false)
                .ok());
  std::string index = dir / "index.sqlite";
  {
    // Another connection writes (so the store's cached pages are stale),
    // moves everything into the main file, and the file is then overwritten
    // past its header page.
    auto other = Db::open(index);
    REQUIRE(other.ok());
    REQUIRE(other->exec("INSERT INTO negative VALUES ('a','b','c','d',1,'','')").ok());
    REQUIRE(other->exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  }
  {
    auto size = std::filesystem::file_size(index);
    std::string garbage(size - 4096, '\x5a');
    int fd = ::open(index.c_str(), O_WRONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(::pwrite(fd, garbage.data(), garbage.size(), 4096) == static_cast<ssize_t>(garbage.size()));
    ::close(fd);
  }
  auto l = s->list();
  REQUIRE_FALSE(l.ok());
  CHECK(l.error().code == Errc::io);
  CHECK(l.error().message.find("damaged") != std::string::npos);
  REQUIRE(s->flush_touches().ok());  // the daemon's periodic call rebuilds it
  Usage u = s->usage();
  CHECK(u.index_rebuilt == 1);
  CHECK(u.kernels == 0);
  CHECK(count_files(dir.path(), "index.sqlite.damaged-") == 1);
  CHECK(count_files(dir / "blobs") == 0);
  REQUIRE(s->put_kernel(kid("new"), bytes_of("fresh"), Source::hub, "", false).ok());
  auto hit = s->find_kernel(kid("new"), false);
  REQUIRE(hit.ok());
  CHECK(hit->has_value());
}
