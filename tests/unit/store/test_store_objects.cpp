// SPDX-License-Identifier: GPL-2.0-or-later
// Remembered objects: each uid's are bounded (count and bytes, oldest
// forgotten), eviction takes them before anyone's minimized results, a fresh
// minimized blob stays open for its caller, and Prefetch's walk reads them one
// at a time. A real SQLite index and blob directory in a temp dir.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "store/store.hpp"
#include "support/temp_dir.hpp"

using namespace btfd;
using namespace btfd::store;

namespace {

int64_t g_clock = 1000;
int64_t clock_now() { return g_clock; }

std::vector<uint8_t> object(int i, size_t size) {
  std::vector<uint8_t> b(size, static_cast<uint8_t>('a' + i % 26));
  std::string tag = "object-" + std::to_string(i);
  std::copy(tag.begin(), tag.end(), b.begin());
  return b;
}

std::unique_ptr<Store> open_store(const std::string& dir, uint64_t budget, uint64_t count, uint64_t bytes) {
  Options o{dir, budget};
  o.remembered_per_uid = count;
  o.remembered_bytes_per_uid = bytes;
  auto s = Store::open(o);
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  (*s)->set_clock_for_testing(clock_now);
  return std::move(s).value();
}

bool remembered(Store& s, const std::vector<uint8_t>& b) {
  auto l = s.list();
  REQUIRE(l.ok());
  for (const auto& o : l->objects)
    if (o.digest == sha256(b)) return true;
  return false;
}

size_t blob_files(const std::filesystem::path& dir) {
  size_t n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir / "blobs")) (void)e, ++n;
  return n;
}

}  // namespace

TEST_CASE("a uid's remembered objects are bounded by count; its oldest go, other uids' stay") {
  test::TempDir dir;
  auto s = open_store(dir.path(), 64 << 20, 4, 64 << 20);
  g_clock = 1000;
  auto other = object(999, 1000);
  REQUIRE(s->remember_object(sha256(other), other, "victim.o", 1000).ok());
  for (int i = 0; i < 20; ++i) {
    g_clock = 2000 + i;
    auto b = object(i, 1000);
    REQUIRE(s->remember_object(sha256(b), b, "junk.o", 65534).ok());
  }
  auto n = s->remembered_count(65534);
  REQUIRE(n.ok());
  CHECK(*n == 4);
  for (int i = 16; i < 20; ++i) CHECK(remembered(*s, object(i, 1000)));  // the newest four
  CHECK_FALSE(remembered(*s, object(0, 1000)));
  CHECK(remembered(*s, other));
  CHECK(s->usage().objects == 5);
  CHECK(blob_files(dir.path()) == 5);  // the forgotten objects' files are gone too

  // Sending an old one again makes it the newest: the then-oldest goes.
  g_clock = 3000;
  auto again = object(16, 1000);
  REQUIRE(s->remember_object(sha256(again), again, "", 65534).ok());
  g_clock = 3001;
  auto fresh = object(50, 1000);
  REQUIRE(s->remember_object(sha256(fresh), fresh, "", 65534).ok());
  CHECK(remembered(*s, again));
  CHECK(remembered(*s, fresh));
  CHECK_FALSE(remembered(*s, object(17, 1000)));
  CHECK(*s->remembered_count(65534) == 4);
}

TEST_CASE("a uid's remembered objects are bounded by bytes; one larger than the bound is not kept") {
  test::TempDir dir;
  auto s = open_store(dir.path(), 64 << 20, 1000, 10000);
  for (int i = 0; i < 10; ++i) {
    g_clock = 1000 + i;
    auto b = object(i, 3000);
    REQUIRE(s->remember_object(sha256(b), b, "", 7).ok());
  }
  CHECK(*s->remembered_count(7) == 3);  // 3 x 3000 <= 10000 < 4 x 3000
  CHECK(remembered(*s, object(9, 3000)));
  CHECK_FALSE(remembered(*s, object(6, 3000)));
  auto huge = object(100, 20000);
  REQUIRE(s->remember_object(sha256(huge), huge, "", 7).ok());  // the call is not refused
  CHECK_FALSE(remembered(*s, huge));
  CHECK(*s->remembered_count(7) == 3);
}

TEST_CASE("eviction takes remembered objects before anyone's minimized results") {
  test::TempDir dir;
  // Generous per-uid bounds: the budget alone decides here.
  auto s = open_store(dir.path(), 1 << 20, 1000, 64 << 20);
  g_clock = 100;
  std::vector<uint8_t> mini(50 * 1024, 'm');
  auto victim = s->put_minimized(sha256(object(0, 10)), {sha256(object(1, 10))}, mini, "{}");
  REQUIRE(victim.ok());
  // Newer objects, many times the budget: each insert evicts to fit.
  for (int i = 0; i < 40; ++i) {
    g_clock = 200 + i;
    auto b = object(i, 100 * 1024);
    REQUIRE(s->remember_object(sha256(b), b, "", 65534).ok());
  }
  CHECK(s->usage().bytes <= (1u << 20));
  auto found = s->find_minimized(sha256(object(0, 10)), {sha256(object(1, 10))});
  REQUIRE(found.ok());
  CHECK(found->has_value());  // the older minimized result outlived the newer objects
  CHECK(s->usage().objects < 40);
  CHECK(remembered(*s, object(39, 100 * 1024)));  // the newest object stays, the oldest went
  CHECK_FALSE(remembered(*s, object(0, 100 * 1024)));
}

TEST_CASE("a fresh minimized blob is opened before any eviction can remove it") {
  test::TempDir dir;
  auto s = open_store(dir.path(), 100 * 1024, 1000, 64 << 20);
  g_clock = 100;
  std::vector<uint8_t> first(60 * 1024, 'f');
  REQUIRE(s->put_minimized(sha256(object(0, 10)), {}, first, "{}").ok());
  // The second entry puts the store over budget; its own gc evicts the least
  // recently used: with the same clock, eviction may take either. The caller's
  // blob must be readable whatever went.
  std::vector<uint8_t> second(60 * 1024, 's');
  auto b = s->put_minimized(sha256(object(1, 10)), {}, second, "{}");
  REQUIRE_MESSAGE(b.ok(), (b.ok() ? "" : b.error().message));
  auto got = pread_all(b->fd.get(), 1 << 20);
  REQUIRE(got.ok());
  CHECK(*got == second);
  // And when the budget is smaller than the entry itself would allow to stay:
  REQUIRE(s->gc(1).ok());
  got = pread_all(b->fd.get(), 1 << 20);
  REQUIRE(got.ok());
  CHECK(*got == second);
}

TEST_CASE("the recent-object walk reads one object at a time and stops on the callback's error") {
  test::TempDir dir;
  auto s = open_store(dir.path(), 64 << 20, 1000, 64 << 20);
  for (int i = 0; i < 5; ++i) {
    g_clock = 1000 + i;
    auto b = object(i, 2000);
    REQUIRE(s->remember_object(sha256(b), b, "", 1).ok());
  }
  size_t seen = 0;
  REQUIRE(s->for_each_recent_object(1002, [&](const Digest& d, std::vector<uint8_t> bytes) -> Status {
    CHECK(sha256(bytes) == d);
    ++seen;
    return {};
  }).ok());
  CHECK(seen == 3);
  seen = 0;
  auto st = s->for_each_recent_object(0, [&](const Digest&, std::vector<uint8_t>) -> Status {
    if (++seen == 2) return make_error(Errc::internal, "stop");
    return {};
  });
  CHECK_FALSE(st.ok());
  CHECK(seen == 2);
}
