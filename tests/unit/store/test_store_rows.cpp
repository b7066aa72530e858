// SPDX-License-Identifier: GPL-2.0-or-later
// Everything on disk counts in the budget, not only blob bytes: minimized rows
// sharing one blob (with their reports and object lists), remembered objects'
// names, negative entries' reasons. usage() counts the rows, gc() brings
// blobs and rows under any budget (pinned kernels aside), a put over the
// budget collects at once, the report comes back with its row, and schema 6
// counts the rows an older index already had.
#include <string>
#include <vector>

#include "store/schema.hpp"
#include "store_fixture.hpp"

using namespace btfd;
using namespace btfd::store;
using namespace btfd::store::testing;

namespace {

int64_t g_clock = 1000;
int64_t test_clock() { return g_clock; }

Digest digest_of(const std::string& s) { return sha256(bytes_of(s)); }
Digest object_digest(int i) { return digest_of("object " + std::to_string(i)); }

std::unique_ptr<Store> clocked_store(const std::string& dir, uint64_t budget) {
  auto s = open_store(dir, budget);
  s->set_clock_for_testing(test_clock);
  return s;
}

// What schema 6 counts for a negative row of kid(release).
uint64_t negative_row_bytes(const std::string& release, size_t reason, size_t mirrors) {
  KernelIdentity id = kid(release);
  return 2 * (id.distro_id.size() + id.distro_version.size() + id.arch.size() + id.release.size()) + reason + mirrors +
         kRowOverhead;
}

bool has_minimized(Store& s, const Digest& kernel, int object) {
  auto hit = s.find_minimized(kernel, {object_digest(object)});
  REQUIRE(hit.ok());
  return hit->has_value();
}

}  // namespace

TEST_CASE("2000 object sets sharing one minimized blob count their rows; gc brings blobs and rows under budget") {
  test::TempDir dir;
  auto s = clocked_store(dir.path(), 1ull << 30);
  g_clock = 1000;
  Digest kernel = digest_of("kernel");
  const std::string report(4096, 'r');  // a relocation report's worth of JSON per row
  std::vector<Store::MinimizedRow> rows;
  for (int i = 0; i < 2000; ++i) rows.push_back({kernel, {object_digest(i)}, 0});
  auto blob = bytes_of("one minimized BTF for every object");
  auto stored = s->put_minimized_many({blob}, rows, report);
  REQUIRE_MESSAGE(stored.ok(), (stored.ok() ? "" : stored.error().message));
  Usage u = s->usage();
  CHECK(u.minimized == 2000);
  CHECK(u.blobs == 1);
  CHECK(u.blob_bytes == blob.size());
  // Each row: its report, its object list, three digests (twice: indexed), the overhead.
  uint64_t per_row = minimized_row_bytes(64, report.size());
  CHECK(u.row_bytes == 2000 * per_row + kBlobRowBytes);
  CHECK(u.bytes == u.blob_bytes + u.row_bytes);
  CHECK(u.bytes > 2000 * report.size());

  // The last ten object sets were asked for since: they are the most recently used.
  g_clock = 2000;
  for (int i = 1990; i < 2000; ++i) CHECK(has_minimized(*s, kernel, i));
  constexpr uint64_t kBudget = 1 << 20;
  auto gc = s->gc(kBudget);
  REQUIRE(gc.ok());
  u = s->usage();
  CHECK(u.bytes <= kBudget);
  CHECK(u.bytes > kBudget - per_row);  // no more than needed went
  CHECK(u.minimized > 0);
  CHECK(u.minimized < 2000);
  CHECK(u.blobs == 1);  // still named by the rows left
  CHECK(gc->removed_entries == 2000 - u.minimized);
  CHECK(gc->removed_blobs == 0);
  CHECK(gc->freed_bytes == gc->removed_entries * per_row);
  CHECK(gc->over_budget == 0);
  CHECK_FALSE(has_minimized(*s, kernel, 0));  // least recently used first
  for (int i = 1990; i < 2000; ++i) CHECK(has_minimized(*s, kernel, i));

  // The blob goes with the last row that names it.
  gc = s->gc(1);
  REQUIRE(gc.ok());
  u = s->usage();
  CHECK(u.minimized == 0);
  CHECK(u.blobs == 0);
  CHECK(u.bytes == 0);
  CHECK(gc->removed_blobs == 1);
  CHECK(count_files(dir / "blobs") == 0);
}

TEST_CASE("minimized rows over the budget are collected by the put itself") {
  test::TempDir dir;
  constexpr uint64_t kBudget = 256 * 1024;
  auto s = clocked_store(dir.path(), kBudget);
  Digest kernel = digest_of("kernel");
  auto blob = bytes_of("shared minimized BTF");
  const std::string report(8192, 'r');
  uint64_t per_row = minimized_row_bytes(64, report.size());
  uint64_t worst = 0;
  for (int i = 0; i < 100; ++i) {  // 100 rows of ~8.5 KiB: three times the budget
    g_clock = 1000 + i;
    auto b = s->put_minimized(kernel, {object_digest(i)}, blob, report);
    REQUIRE_MESSAGE(b.ok(), (b.ok() ? "" : b.error().message));
    worst = std::max(worst, s->usage().bytes);
  }
  CHECK(worst <= kBudget);  // each put that went over collected before it returned
  Usage u = s->usage();
  CHECK(u.minimized < 100);
  CHECK(u.minimized >= (kBudget - per_row) / per_row - 1);
  CHECK(has_minimized(*s, kernel, 99));
  CHECK_FALSE(has_minimized(*s, kernel, 0));
}

TEST_CASE("negative rows count, are evicted oldest first by gc and by a put over the budget") {
  test::TempDir dir;
  auto s = clocked_store(dir.path(), 1ull << 30);
  g_clock = 1000;
  const std::string reason(512, 'n'), mirrors(64, 'm');
  for (int i = 0; i < 2000; ++i)
    REQUIRE(s->put_negative(kid("made-up-" + std::to_string(i)), 1ull << 40, reason, mirrors).ok());
  Usage u = s->usage();
  CHECK(u.negative == 2000);
  uint64_t rows = 0;
  for (int i = 0; i < 2000; ++i) rows += negative_row_bytes("made-up-" + std::to_string(i), 512, 64);
  CHECK(u.row_bytes == rows);
  CHECK(u.bytes == rows);

  const uint64_t budget = rows / 4;
  auto gc = s->gc(budget);
  REQUIRE(gc.ok());
  u = s->usage();
  CHECK(u.bytes <= budget);
  CHECK(u.negative > 0);
  CHECK(u.negative < 600);
  CHECK(gc->removed_entries == 2000 - u.negative);
  auto oldest = s->find_negative(kid("made-up-0"), mirrors);
  REQUIRE(oldest.ok());
  CHECK_FALSE(oldest->has_value());
  auto newest = s->find_negative(kid("made-up-1999"), mirrors);
  REQUIRE(newest.ok());
  CHECK(newest->has_value());

  // A store whose budget holds ~50 of them stays there as they keep coming.
  test::TempDir small_dir;
  const uint64_t small = 50 * negative_row_bytes("made-up-1000", 512, 64);
  auto t = clocked_store(small_dir.path(), small);
  for (int i = 0; i < 200; ++i) {
    REQUIRE(t->put_negative(kid("made-up-" + std::to_string(i)), 1ull << 40, reason, mirrors).ok());
    REQUIRE(t->usage().bytes <= small);
  }
  CHECK(t->usage().negative >= 40);
  CHECK(t->usage().negative <= 50);
  auto kept = t->find_negative(kid("made-up-199"), mirrors);
  REQUIRE(kept.ok());
  CHECK(kept->has_value());
}

TEST_CASE("remembered objects' 255-byte names count and are collected") {
  test::TempDir dir;
  auto s = clocked_store(dir.path(), 1ull << 30);
  const std::string name(255, 'x');
  uint64_t blob_bytes = 0;
  for (int i = 0; i < 200; ++i) {
    g_clock = 1000 + i;
    auto b = bytes_of("object " + std::to_string(i));
    blob_bytes += b.size();
    REQUIRE(s->remember_object(sha256(b), b, name).ok());
  }
  Usage u = s->usage();
  CHECK(u.objects == 200);
  CHECK(u.blob_bytes == blob_bytes);
  // Each object: its row (digest twice, the name), its blob's row.
  CHECK(u.row_bytes == 200 * (2 * 64 + name.size() + kRowOverhead + kBlobRowBytes));
  CHECK(u.row_bytes > 10 * u.blob_bytes);  // the rows are most of it

  // A name sent again (longer or shorter) is counted as it is now.
  auto first = bytes_of("object 0");
  REQUIRE(s->remember_object(sha256(first), first, "short.o").ok());
  CHECK(s->usage().row_bytes == u.row_bytes - (name.size() - 7));
  REQUIRE(s->remember_object(sha256(first), first, name).ok());
  CHECK(s->usage().row_bytes == u.row_bytes);

  const uint64_t budget = u.row_bytes / 2;  // about half of them fit
  auto gc = s->gc(budget);
  REQUIRE(gc.ok());
  u = s->usage();
  CHECK(u.bytes <= budget);
  CHECK(u.objects > 70);
  CHECK(u.objects < 130);
  CHECK(gc->removed_blobs == gc->removed_entries);  // each object's blob went with it
  CHECK(count_files(dir / "blobs") == u.objects);
}

TEST_CASE("pinned kernels are the only thing gc leaves over budget, and the excess is reported") {
  test::TempDir dir;
  auto s = clocked_store(dir.path(), 1ull << 30);
  std::vector<uint8_t> big(64 * 1024, 'p');
  REQUIRE(s->put_kernel(kid("pinned"), big, Source::native, "/sys/kernel/btf/vmlinux", true).ok());
  big[0] = 'u';
  REQUIRE(s->put_kernel(kid("unpinned"), big, Source::hub, "http://mirror/x", false).ok());
  REQUIRE(s->put_minimized(digest_of("k"), {object_digest(1)}, bytes_of("m"), std::string(1000, 'r')).ok());
  REQUIRE(s->put_negative(kid("nope"), 1ull << 40, "404").ok());
  auto o = bytes_of("object");
  REQUIRE(s->remember_object(sha256(o), o, "o.bpf.o").ok());
  auto gc = s->gc(1);
  REQUIRE(gc.ok());
  Usage u = s->usage();
  CHECK(u.kernels == 1);
  CHECK(u.minimized + u.objects + u.negative == 0);
  CHECK(u.pinned_bytes == big.size());
  CHECK(u.blob_bytes == big.size());
  CHECK(gc->over_budget == u.bytes - 1);
  auto pinned = s->find_kernel(kid("pinned"));
  REQUIRE(pinned.ok());
  CHECK(pinned->has_value());
}

TEST_CASE("a minimized row's report comes back with it; one past kMaxReportBytes is not kept") {
  test::TempDir dir;
  auto s = clocked_store(dir.path(), 1ull << 30);
  Digest kernel = digest_of("kernel");
  const std::string report = R"([{"object":"object 0123456789ab","relo":0,"kind":"field_byte_offset"}])";
  REQUIRE(s->put_minimized(kernel, {object_digest(1)}, bytes_of("min"), report).ok());
  auto hit = s->find_minimized(kernel, {object_digest(1)});
  REQUIRE(hit.ok());
  REQUIRE(hit->has_value());
  CHECK((*hit)->report == report);
  CHECK(read_fd((*hit)->blob.fd.get()) == "min");
  const uint64_t one_row = s->usage().row_bytes;
  CHECK(one_row == kBlobRowBytes + minimized_row_bytes(64, report.size()));

  // The same key again with another report: the row is replaced, and counted once.
  const std::string longer(10000, 'l');
  REQUIRE(s->put_minimized(kernel, {object_digest(1)}, bytes_of("min"), longer).ok());
  CHECK(s->usage().row_bytes == one_row - report.size() + longer.size());
  REQUIRE(s->put_minimized(kernel, {object_digest(1)}, bytes_of("min"), report).ok());
  CHECK(s->usage().row_bytes == one_row);

  // At the bound it is kept; past it the BTF is cached, the report is not.
  const std::string at_cap(kMaxReportBytes, 'c');
  REQUIRE(s->put_minimized(kernel, {object_digest(2)}, bytes_of("min"), at_cap).ok());
  auto capped = s->find_minimized(kernel, {object_digest(2)});
  REQUIRE(capped.ok());
  REQUIRE(capped->has_value());
  CHECK((*capped)->report.size() == kMaxReportBytes);
  const uint64_t before = s->usage().row_bytes;
  auto past = s->put_minimized(kernel, {object_digest(3)}, bytes_of("min"), std::string(kMaxReportBytes + 1, 'p'));
  REQUIRE_MESSAGE(past.ok(), (past.ok() ? "" : past.error().message));
  CHECK(read_fd(past->fd.get()) == "min");
  auto dropped = s->find_minimized(kernel, {object_digest(3)});
  REQUIRE(dropped.ok());
  REQUIRE(dropped->has_value());
  CHECK((*dropped)->report.empty());
  CHECK(s->usage().row_bytes == before + minimized_row_bytes(64, 0));
  // The same bound for a bundle's rows.
  auto many = s->put_minimized_many({bytes_of("min")}, {{kernel, {object_digest(4)}, 0}},
                                    std::string(kMaxReportBytes + 1, 'b'));
  REQUIRE_MESSAGE(many.ok(), (many.ok() ? "" : many.error().message));
  auto bundled = s->find_minimized(kernel, {object_digest(4)});
  REQUIRE(bundled.ok());
  REQUIRE(bundled->has_value());
  CHECK((*bundled)->report.empty());

  // A report goes with its row.
  REQUIRE(s->gc(1).ok());
  CHECK(s->usage().row_bytes == 0);
  CHECK(count_rows(dir.path(), "minimized") == 0);
}

TEST_CASE("schema 6 counts the rows an index of schema 5 already had") {
  test::TempDir dir;
  Usage before;
  {
    auto s = clocked_store(dir.path(), 1ull << 30);
    REQUIRE(s->put_kernel(kid("k"), bytes_of("kernel BTF"), Source::hub, "http://mirror/k.btf.tar.xz", false).ok());
    REQUIRE(s->put_minimized(digest_of("k"), {object_digest(1), object_digest(2)}, bytes_of("min"),
                             std::string(3000, 'r'))
                .ok());
    REQUIRE(s->put_minimized(digest_of("k"), {object_digest(3)}, bytes_of("min"), "{}").ok());
    auto o = bytes_of("object");
    REQUIRE(s->remember_object(sha256(o), o, std::string(255, 'n')).ok());
    REQUIRE(s->put_negative(kid("nope"), 1ull << 40, std::string(512, 'x'), "fingerprint").ok());
    before = s->usage();
  }
  REQUIRE(before.row_bytes > 3000 + 255 + 512);
  {
    auto db = Db::open(dir / "index.sqlite");
    REQUIRE(db.ok());
    back_to_schema5(*db);
  }
  auto s = clocked_store(dir.path(), 1ull << 30);
  Usage after = s->usage();
  CHECK(after.kernels == 1);
  CHECK(after.minimized == 2);
  CHECK(after.objects == 1);
  CHECK(after.negative == 1);
  CHECK(after.blob_bytes == before.blob_bytes);
  CHECK(after.row_bytes == before.row_bytes);
  auto db = Db::open(dir / "index.sqlite");
  REQUIRE(db.ok());
  auto v = db->prepare("PRAGMA user_version");
  REQUIRE(v.ok());
  REQUIRE(v->step().ok());
  CHECK(v->int64(0) == kSchemaVersion);
  // And the migrated rows are collected like new ones.
  auto gc = s->gc(1);
  REQUIRE(gc.ok());
  CHECK(s->usage().bytes == 0);
  CHECK(gc->freed_bytes == before.bytes);
}

TEST_CASE("an entry whose rows alone exceed the budget is refused, naming the setting") {
  test::TempDir dir;
  auto s = clocked_store(dir.path(), 64 * 1024);
  // 200 object digests and a large report: small BTF, rows over the budget.
  std::vector<Digest> objects;
  for (int i = 0; i < 200; ++i) objects.push_back(object_digest(i));
  auto r = s->put_minimized(digest_of("k"), objects, bytes_of("min"), std::string(60 * 1024, 'r'));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::no_space);
  CHECK(r.error().message.find("MaxSize=") != std::string::npos);
  CHECK(s->usage().minimized == 0);
}
