// SPDX-License-Identifier: GPL-2.0-or-later
// Every resource stays bounded and the event loop never waits on the store:
// negative entries are capped and collected, and gc works in small
// transactions so a concurrent verified_only lookup is answered (or sent to a
// worker with busy) within milliseconds.
#include <atomic>
#include <chrono>
#include <thread>

#include "store/schema.hpp"
#include "store_fixture.hpp"

using namespace btfd;
using namespace btfd::store;
using namespace btfd::store::testing;

namespace {

int64_t g_clock = 1000;
int64_t test_clock() { return g_clock; }

}  // namespace

TEST_CASE("negative entries stay bounded under a stream of made-up kernels") {
  test::TempDir dir;
  constexpr uint64_t kCap = 64;
  auto s = open_store(dir.path(), 1 << 20, kCap);
  s->set_clock_for_testing(test_clock);
  g_clock = 1000;
  for (int i = 0; i < 10000; ++i)
    REQUIRE(s->put_negative(kid("made-up-" + std::to_string(i)), g_clock + 3600, std::string(4096, 'r')).ok());
  CHECK(count_rows(dir.path(), "negative") == static_cast<int64_t>(kCap));
  Usage u = s->usage();
  CHECK(u.negative == kCap);
  CHECK(u.negative_evicted == 10000 - kCap);
  // The oldest went first: the newest are still in force.
  auto newest = s->find_negative(kid("made-up-9999"));
  REQUIRE(newest.ok());
  CHECK(newest->has_value());
  auto oldest = s->find_negative(kid("made-up-0"));
  REQUIRE(oldest.ok());
  CHECK_FALSE(oldest->has_value());
  // The reason is clipped: one row costs a bounded number of bytes.
  // (The WAL beside it is bounded by SQLite's auto-checkpoint, not by the rows.)
  CHECK(std::filesystem::file_size(dir / "index.sqlite") < 1u << 20);
}

TEST_CASE("expired negative entries are collected by put_negative and by gc") {
  test::TempDir dir;
  auto s = open_store(dir.path());
  s->set_clock_for_testing(test_clock);
  g_clock = 1000;
  for (int i = 0; i < 50; ++i) REQUIRE(s->put_negative(kid("e" + std::to_string(i)), 1100, "404").ok());
  CHECK(s->usage().negative == 50);
  g_clock = 2000;  // all expired
  REQUIRE(s->put_negative(kid("fresh"), 5000, "404").ok());
  CHECK(count_rows(dir.path(), "negative") == 1);
  CHECK(s->usage().negative == 1);
  for (int i = 0; i < 10; ++i) REQUIRE(s->put_negative(kid("f" + std::to_string(i)), 2500, "404").ok());
  g_clock = 3000;
  REQUIRE(s->gc().ok());
  CHECK(s->usage().negative == 1);
  auto kept = s->find_negative(kid("fresh"));
  REQUIRE(kept.ok());
  CHECK(kept->has_value());
}

TEST_CASE("a made-up identity cannot become a negative entry") {
  test::TempDir dir;
  auto s = open_store(dir.path());
  auto r = s->put_negative({"../x", "1", "x86_64", std::string(4096, 'a')}, 1, "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::invalid_argument);
}

TEST_CASE("gc of a large cache never makes the loop's lookup wait") {
  test::TempDir dir;
  constexpr int kEntries = 4000;
  // A large cache, written straight into the index and blob directory (the
  // store's own path would fsync each entry three times).
  { open_store(dir.path()); }
  {
    auto db = Db::open(dir / "index.sqlite");
    REQUIRE(db.ok());
    REQUIRE(db->exec("BEGIN").ok());
    for (int i = 0; i < kEntries; ++i) {
      std::string text = "minimized " + std::to_string(i);
      std::string hex = sha256_hex(bytes_of(text));
      test::write_text(dir / ("blobs/" + hex), text);
      auto b = db->prepare("INSERT INTO blobs(digest, size) VALUES (?1, ?2)");
      REQUIRE(b.ok());
      REQUIRE(b->bind(1, hex).bind(2, static_cast<int64_t>(text.size())).run().ok());
      auto m = db->prepare(
          "INSERT INTO minimized(kernel_digest, objects_key, objects, digest, report, created_at, last_used) "
          "VALUES (?1, ?2, '', ?3, '{}', ?4, ?4)");
      REQUIRE(m.ok());
      REQUIRE(m->bind(1, hex).bind(2, hex).bind(3, hex).bind(4, int64_t{i}).run().ok());
    }
    REQUIRE(db->exec("COMMIT").ok());
  }
  auto s = open_store(dir.path(), 1ull << 30);
  REQUIRE(s->usage().minimized == kEntries);
  REQUIRE(s->put_kernel(kid("hot"), bytes_of("the hot kernel"), Source::native, "", true).ok());
  REQUIRE(s->find_kernel(kid("hot")).ok());  // verified and remembered, as a served kernel is

  std::atomic<bool> gc_done{false};
  std::atomic<int> lookups{0}, hits{0}, busy{0}, errors{0};
  std::chrono::steady_clock::duration worst{};
  std::thread loop([&] {
    while (!gc_done.load()) {
      auto t0 = std::chrono::steady_clock::now();
      auto r = s->find_kernel(kid("hot"), true);
      auto dt = std::chrono::steady_clock::now() - t0;
      worst = std::max(worst, dt);
      ++lookups;
      if (r.ok() && r->has_value()) ++hits;
      else if (!r.ok() && r.error().code == Errc::busy) ++busy;
      else ++errors;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  auto gc = s->gc(1);  // everything but the pinned kernel goes
  gc_done = true;
  loop.join();
  REQUIRE(gc.ok());
  CHECK(gc->removed_entries == kEntries);
  CHECK(gc->removed_blobs == kEntries);
  CHECK(s->usage().minimized == 0);
  CHECK(count_files(dir / "blobs") == 1);
  MESSAGE("lookups during gc: " << lookups.load() << " (hits " << hits.load() << ", busy " << busy.load() << "), worst "
                                << std::chrono::duration_cast<std::chrono::microseconds>(worst).count() << " us");
  CHECK(lookups > 10);  // the lookups really ran alongside the gc
  CHECK(hits > 0);      // and were answered between its batches
  CHECK(errors == 0);
  CHECK(worst < std::chrono::milliseconds(200));
}
