// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "store/store.hpp"
#include "store_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace btfd;
using namespace btfd::store;

namespace {

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }
KernelIdentity kid(const std::string& release) { return {"ubuntu", "20.04", "x86_64", release}; }

std::unique_ptr<Store> open_store(const std::string& dir, uint64_t budget = 1 << 20) {
  auto s = Store::open({dir, budget});
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  return std::move(s).value();
}

std::string read_fd(int fd) {
  auto b = pread_all(fd, 1 << 24);
  REQUIRE(b.ok());
  return std::string(b->begin(), b->end());
}

int64_t g_now = 1000;
int64_t fake_now() { return g_now; }

size_t count_files(const std::string& dir) {
  size_t n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) (void)e, ++n;
  return n;
}

}  // namespace

TEST_CASE("kernels round-trip with metadata and survive reopen") {
  test::TempDir dir;
  {
    auto s = open_store(dir.path());
    auto e = s->put_kernel(kid("5.4.0-26-generic"), bytes_of("BTFDATA"), Source::hub, "http://m/x", false);
    REQUIRE(e.ok());
    CHECK(e->size == 7);
    CHECK(e->digest == sha256(bytes_of("BTFDATA")));
  }
  auto s = open_store(dir.path());
  auto hit = s->find_kernel(kid("5.4.0-26-generic"));
  REQUIRE(hit.ok());
  REQUIRE(hit->has_value());
  auto& [entry, blob] = **hit;
  CHECK(entry.source == Source::hub);
  CHECK(entry.origin == "http://m/x");
  CHECK(read_fd(blob.fd.get()) == "BTFDATA");
  CHECK(blob.path == dir.path() + "/blobs/" + to_hex(entry.digest));
  CHECK((fcntl(blob.fd.get(), F_GETFD) & FD_CLOEXEC) != 0);
  auto miss = s->find_kernel(kid("other"));
  REQUIRE(miss.ok());
  CHECK_FALSE(miss->has_value());
}

TEST_CASE("identical content is stored once") {
  test::TempDir dir;
  auto s = open_store(dir.path());
  REQUIRE(s->put_kernel(kid("a"), bytes_of("same"), Source::hub, "", false).ok());
  REQUIRE(s->put_kernel(kid("b"), bytes_of("same"), Source::hub, "", false).ok());
  Digest k = sha256(bytes_of("k"));
  REQUIRE(s->put_minimized(k, {sha256(bytes_of("o1"))}, bytes_of("min"), "{}").ok());
  REQUIRE(s->put_minimized(sha256(bytes_of("k2")), {sha256(bytes_of("o1"))}, bytes_of("min"), "{}").ok());
  auto u = s->usage();
  CHECK(u.kernels == 2);
  CHECK(u.minimized == 2);
  CHECK(u.blobs == 2);
  CHECK(count_files(dir / "blobs") == 2);
}

TEST_CASE("minimized entries are keyed by kernel and the object set, in any order") {
  test::TempDir dir;
  auto s = open_store(dir.path());
  Digest k = sha256(bytes_of("kernel")), o1 = sha256(bytes_of("o1")), o2 = sha256(bytes_of("o2"));
  REQUIRE(s->put_minimized(k, {o1, o2}, bytes_of("M12"), "{\"relocs\":[]}").ok());
  auto hit = s->find_minimized(k, {o2, o1, o2});
  REQUIRE(hit.ok());
  REQUIRE(hit->has_value());
  CHECK(read_fd((*hit)->blob.fd.get()) == "M12");
  CHECK((*hit)->report == "{\"relocs\":[]}");
  auto miss = s->find_minimized(k, {o1});
  REQUIRE(miss.ok());
  CHECK_FALSE(miss->has_value());
}

TEST_CASE("an object sent again within a minute costs a touch, written with the next flush") {
  test::TempDir dir;
  auto s = open_store(dir.path());
  s->set_clock_for_testing(fake_now);
  g_now = 1000;
  auto obj = bytes_of("ELF object, warm");
  REQUIRE(s->remember_object(sha256(obj), obj, "warm.o", 1000).ok());
  g_now = 1030;
  // The warm path takes the caller's digest (the bytes were hashed once by it).
  REQUIRE(s->remember_object(sha256(obj), obj, "warm.o", 1000).ok());
  auto before = s->recent_objects(1020);
  REQUIRE(before.ok());
  CHECK(before->empty());  // not written yet: only noted
  REQUIRE(s->flush_touches().ok());
  auto after = s->recent_objects(1020);
  REQUIRE(after.ok());
  REQUIRE(after->size() == 1);
  CHECK((*after)[0].second == obj);
  // Another name (or another uid) is written at once.
  g_now = 1040;
  REQUIRE(s->remember_object(sha256(obj), obj, "renamed.o", 1000).ok());
  auto renamed = s->recent_objects(1035);
  REQUIRE(renamed.ok());
  CHECK(renamed->size() == 1);
}

TEST_CASE("an object is named by digest only by the uid that sent it, also after a restart") {
  test::TempDir dir;
  auto obj = bytes_of("ELF object, named by digest");
  Digest d = sha256(obj);
  {
    auto s = open_store(dir.path());
    s->set_clock_for_testing(fake_now);
    g_now = 2000;
    auto unknown = s->touch_remembered_by(d, 1000);
    REQUIRE(unknown.ok());
    CHECK_FALSE(*unknown);  // never sent
    REQUIRE(s->remember_object(d, obj, "a.o", 1000).ok());
    g_now = 2100;
    CHECK(*s->touch_remembered_by(d, 1000));
    CHECK_FALSE(*s->touch_remembered_by(d, 1001));
    CHECK(*s->touch_remembered_by(d, Store::kNoUid));
    REQUIRE(s->flush_touches().ok());
    // The touch moved last_requested.
    auto recent = s->recent_objects(2050);
    REQUIRE(recent.ok());
    CHECK(recent->size() == 1);
  }
  // From the index (the in-memory memo is gone with the process).
  auto s = open_store(dir.path());
  CHECK(*s->touch_remembered_by(d, 1000));
  CHECK_FALSE(*s->touch_remembered_by(d, 1001));
  // Sent by another uid: that uid is the one remembered now.
  REQUIRE(s->remember_object(d, obj, "a.o", 1001).ok());
  CHECK(*s->touch_remembered_by(d, 1001));
  CHECK_FALSE(*s->touch_remembered_by(d, 1000));
}

TEST_CASE("objects are remembered with their bytes and request time") {
  test::TempDir dir;
  auto s = open_store(dir.path());
  s->set_clock_for_testing(fake_now);
  g_now = 1000;
  auto obj = bytes_of("ELF object");
  REQUIRE(s->remember_object(sha256(obj), obj).ok());
  g_now = 5000;
  auto two = bytes_of("second");
  REQUIRE(s->remember_object(sha256(two), two).ok());
  auto recent = s->recent_objects(2000);
  REQUIRE(recent.ok());
  REQUIRE(recent->size() == 1);
  CHECK((*recent)[0].second == two);
  auto all = s->recent_objects(0);
  REQUIRE(all.ok());
  CHECK(all->size() == 2);
  CHECK_FALSE(s->remember_object(sha256(obj), two).ok());  // digest must match the bytes
}

TEST_CASE("objects remember the name a client gave; schema 4 adds it to an older index") {
  test::TempDir dir;
  auto obj = bytes_of("ELF object");
  {
    auto s = open_store(dir.path());
    REQUIRE(s->remember_object(sha256(obj), obj, "probe.bpf.o").ok());
    REQUIRE(s->remember_object(sha256(obj), obj).ok());  // no name: the old one stays
    auto l = s->list();
    REQUIRE(l.ok());
    REQUIRE(l->objects.size() == 1);
    CHECK(l->objects[0].name == "probe.bpf.o");
    REQUIRE(s->remember_object(sha256(obj), obj, "renamed.o").ok());  // a new name replaces it
    l = s->list();
    REQUIRE(l.ok());
    CHECK(l->objects[0].name == "renamed.o");
  }
  {
    // Back to what version 3 left: objects without names.
    auto db = Db::open(dir / "index.sqlite");
    REQUIRE(db.ok());
    testing::back_to_schema5(*db);
    REQUIRE(db->exec("DROP INDEX objects_uid").ok());
    REQUIRE(db->exec("ALTER TABLE objects DROP COLUMN uid").ok());
    REQUIRE(db->exec("ALTER TABLE objects DROP COLUMN name").ok());
    REQUIRE(db->exec("PRAGMA user_version = 3").ok());
  }
  auto s = open_store(dir.path());
  auto l = s->list();
  REQUIRE(l.ok());
  REQUIRE(l->objects.size() == 1);
  CHECK(l->objects[0].name.empty());
  REQUIRE(s->remember_object(sha256(obj), obj, "again.o").ok());
  l = s->list();
  REQUIRE(l.ok());
  CHECK(l->objects[0].name == "again.o");
}

TEST_CASE("negative entries expire and are cleared by a real entry") {
  test::TempDir dir;
  auto s = open_store(dir.path());
  s->set_clock_for_testing(fake_now);
  g_now = 100;
  REQUIRE(s->put_negative(kid("gone"), 200, "404 on every mirror").ok());
  auto n = s->find_negative(kid("gone"));
  REQUIRE(n.ok());
  REQUIRE(n->has_value());
  CHECK(**n == 200);
  g_now = 250;
  n = s->find_negative(kid("gone"));
  REQUIRE(n.ok());
  CHECK_FALSE(n->has_value());
  g_now = 100;
  REQUIRE(s->put_kernel(kid("gone"), bytes_of("x"), Source::file, "/f", false).ok());
  n = s->find_negative(kid("gone"));
  REQUIRE(n.ok());
  CHECK_FALSE(n->has_value());
}

TEST_CASE("open removes temp files, dangling rows and orphan blobs") {
  test::TempDir dir;
  Digest kept;
  {
    auto s = open_store(dir.path());
    auto a = s->put_kernel(kid("a"), bytes_of("aaaa"), Source::hub, "", false);
    auto b = s->put_kernel(kid("b"), bytes_of("bbbb"), Source::hub, "", false);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    kept = a->digest;
    // b's blob vanishes, c's is truncated (wrong size), plus a temp file and an orphan.
    std::filesystem::remove(dir / ("blobs/" + to_hex(b->digest)));
    auto c = s->put_kernel(kid("c"), bytes_of("cccc"), Source::hub, "", false);
    REQUIRE(c.ok());
    truncate((dir / ("blobs/" + to_hex(c->digest))).c_str(), 2);
  }
  test::write_text(dir / "blobs/.tmp-abcdef", "partial");
  test::write_text(dir / ("blobs/" + sha256_hex(bytes_of("orphan"))), "orphan");
  auto s = open_store(dir.path());
  auto u = s->usage();
  CHECK(u.recovered_temps == 1);
  CHECK(u.recovered_rows >= 2);
  CHECK(u.recovered_orphans == 2);  // the explicit orphan and c's truncated file
  CHECK(u.kernels == 1);
  CHECK(count_files(dir / "blobs") == 1);
  auto a = s->find_kernel(kid("a"));
  REQUIRE(a.ok());
  REQUIRE(a->has_value());
  CHECK((*a)->first.digest == kept);
  auto b = s->find_kernel(kid("b"));
  REQUIRE(b.ok());
  CHECK_FALSE(b->has_value());
}

TEST_CASE("a blob whose content does not match its digest is never served") {
  test::TempDir dir;
  Digest d;
  {
    auto s = open_store(dir.path());
    auto e = s->put_kernel(kid("a"), bytes_of("good content"), Source::hub, "", false);
    REQUIRE(e.ok());
    d = e->digest;
  }
  // Same size, one byte flipped: only hashing can tell.
  std::string p = dir / ("blobs/" + to_hex(d));
  test::write_text(p, "good cOntent");
  auto s = open_store(dir.path());
  auto hit = s->find_kernel(kid("a"));
  REQUIRE(hit.ok());
  CHECK_FALSE(hit->has_value());
  CHECK(s->usage().corrupt_blobs == 1);
  CHECK(s->usage().kernels == 0);
  CHECK_FALSE(std::filesystem::exists(p));
}

TEST_CASE("a remembered hit follows replacement, damage and eviction") {
  test::TempDir dir;
  auto s = open_store(dir.path());
  REQUIRE(s->put_kernel(kid("a"), bytes_of("first"), Source::hub, "", false).ok());
  // "x" shares the blob, so it outlives a's replacement: only forgetting the
  // remembered hit keeps "a" from being answered with it.
  REQUIRE(s->put_kernel(kid("x"), bytes_of("first"), Source::hub, "", false).ok());
  for (int i = 0; i < 2; ++i) {  // the second lookup is answered from memory
    auto hit = s->find_kernel(kid("a"), i == 1);
    REQUIRE(hit.ok());
    REQUIRE(hit->has_value());
    CHECK(read_fd((*hit)->second.fd.get()) == "first");
  }
  REQUIRE(s->put_kernel(kid("a"), bytes_of("second!"), Source::native, "", false).ok());
  auto replaced = s->find_kernel(kid("a"), true);
  REQUIRE(replaced.ok());
  REQUIRE(replaced->has_value());
  CHECK(read_fd((*replaced)->second.fd.get()) == "second!");
  CHECK((*replaced)->first.source == Source::native);
  // Damage behind the store's back: a remembered hit is not served blindly.
  test::write_text(dir / ("blobs/" + to_hex((*replaced)->first.digest)), "short");
  auto damaged = s->find_kernel(kid("a"), true);
  REQUIRE(damaged.ok());
  CHECK_FALSE(damaged->has_value());
  CHECK(s->usage().corrupt_blobs == 1);
  REQUIRE(s->put_kernel(kid("b"), bytes_of("bee"), Source::hub, "", false).ok());
  REQUIRE(s->find_kernel(kid("b")).ok());
  REQUIRE(s->gc(1).ok());
  auto evicted = s->find_kernel(kid("b"), true);
  REQUIRE(evicted.ok());
  CHECK_FALSE(evicted->has_value());
}

TEST_CASE("eviction: LRU, minimized first, pinned kernels never") {
  test::TempDir dir;
  auto s = open_store(dir.path(), 1 << 20);
  s->set_clock_for_testing(fake_now);
  std::vector<uint8_t> big(300 * 1024, 'k');
  g_now = 10;
  big[0] = 'p';
  REQUIRE(s->put_kernel(kid("pinned"), big, Source::native, "", true).ok());
  g_now = 20;
  big[0] = 'o';
  REQUIRE(s->put_kernel(kid("old"), big, Source::hub, "", false).ok());
  g_now = 30;
  big[0] = 'n';
  REQUIRE(s->put_kernel(kid("new"), big, Source::hub, "", false).ok());
  g_now = 40;
  std::vector<uint8_t> mini(100 * 1024, 'm');
  REQUIRE(s->put_minimized(sha256(bytes_of("k")), {}, mini, "{}").ok());
  g_now = 50;
  REQUIRE(s->find_kernel(kid("old")).ok());  // touch: "old" is now more recent than "new"

  auto r = s->gc(700 * 1024);
  REQUIRE(r.ok());
  // Minimized goes first; then the least recently used unpinned kernel ("new").
  CHECK(s->usage().minimized == 0);
  auto n = s->find_kernel(kid("new"));
  REQUIRE(n.ok());
  CHECK_FALSE(n->has_value());
  auto o = s->find_kernel(kid("old"));
  REQUIRE(o.ok());
  CHECK(o->has_value());
  CHECK(r->freed_bytes >= 400 * 1024);

  auto all = s->gc(1);  // nothing but the pinned kernel may remain
  REQUIRE(all.ok());
  auto p = s->find_kernel(kid("pinned"));
  REQUIRE(p.ok());
  CHECK(p->has_value());
  CHECK(s->usage().kernels == 1);
  REQUIRE(s->set_pinned(kid("pinned"), false).ok());
  REQUIRE(s->gc(1).ok());
  CHECK(s->usage().kernels == 0);
  CHECK(count_files(dir / "blobs") == 0);
}

TEST_CASE("inserts beyond the budget evict automatically") {
  test::TempDir dir;
  auto s = open_store(dir.path(), 64 * 1024);
  for (int i = 0; i < 10; ++i) {
    std::vector<uint8_t> b(20 * 1024, static_cast<uint8_t>(i));
    REQUIRE(s->put_kernel(kid("r" + std::to_string(i)), b, Source::hub, "", false).ok());
  }
  CHECK(s->usage().bytes <= 64 * 1024);
  auto last = s->find_kernel(kid("r9"));
  REQUIRE(last.ok());
  CHECK(last->has_value());
}

TEST_CASE("a pending blob that is never committed leaves nothing behind") {
  test::TempDir dir;
  auto s = open_store(dir.path());
  {
    auto p = s->begin_blob();
    REQUIRE(p.ok());
    REQUIRE(write_all(p->fd(), std::string_view("half")).ok());
  }
  CHECK(count_files(dir / "blobs") == 0);
}

TEST_CASE("identities are validated before they reach the index") {
  test::TempDir dir;
  auto s = open_store(dir.path());
  auto r = s->put_kernel({"../x", "1", "x86_64", "r"}, bytes_of("x"), Source::hub, "", false);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::invalid_argument);
  CHECK(count_files(dir / "blobs") == 0);
}

TEST_CASE("a newer schema is refused with a clear error") {
  test::TempDir dir;
  { open_store(dir.path()); }
  {
    auto db = Db::open(dir / "index.sqlite");
    REQUIRE(db.ok());
    REQUIRE(db->exec("PRAGMA user_version = 99").ok());
  }
  auto s = Store::open({dir.path(), 1 << 20});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == Errc::unsupported);
  CHECK(s.error().message.find("99") != std::string::npos);
}

TEST_CASE("an entry larger than the whole budget is refused with the setting to raise; nothing is evicted for it") {
  test::TempDir tmp;
  auto s = open_store(tmp.path(), 64 * 1024);
  std::vector<uint8_t> small(16 * 1024, 1), big(128 * 1024, 2);
  REQUIRE(s->put_kernel(kid("5.4.0-1"), small, Source::hub, "test", false).ok());
  auto r = s->put_kernel(kid("5.4.0-2"), big, Source::hub, "test", false);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::no_space);
  CHECK(r.error().message.find("MaxSize") != std::string::npos);
  auto still = s->find_kernel(kid("5.4.0-1"));
  REQUIRE(still.ok());
  CHECK(still->has_value());
  auto m = s->put_minimized(Digest{}, {}, big, "{}");
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().code == Errc::no_space);
}

TEST_CASE("put_minimized_many publishes each blob once and records every row") {
  test::TempDir dir;
  auto s = open_store(dir.path());
  Digest k1 = sha256(bytes_of("k1")), k2 = sha256(bytes_of("k2")), o1 = sha256(bytes_of("o1")),
         o2 = sha256(bytes_of("o2"));
  auto a = bytes_of("BTF A"), b = bytes_of("BTF B");
  std::vector<std::span<const uint8_t>> blobs{a, b};
  std::vector<Store::MinimizedRow> rows{{k1, {o1, o2}, 0}, {k1, {o1}, 0}, {k1, {o2}, 0},
                                        {k2, {o1, o2}, 1}, {k2, {o1}, 1}, {k2, {o2}, 1}};
  auto n = s->put_minimized_many(blobs, rows, "{}");
  REQUIRE_MESSAGE(n.ok(), (n.ok() ? "" : n.error().message));
  CHECK(*n == 6);
  auto u = s->usage();
  CHECK(u.minimized == 6);
  CHECK(u.blobs == 2);
  CHECK(count_files(dir / "blobs") == 2);
  auto hit = s->find_minimized(k2, {o2});
  REQUIRE(hit.ok());
  REQUIRE(hit->has_value());
  CHECK(read_fd((*hit)->blob.fd.get()) == "BTF B");
  auto hit1 = s->find_minimized(k1, {o2, o1});
  REQUIRE(hit1.ok());
  REQUIRE(hit1->has_value());
  CHECK(read_fd((*hit1)->blob.fd.get()) == "BTF A");
}

TEST_CASE("put_minimized_many stores nothing when a row is bad or the blobs do not fit") {
  test::TempDir dir;
  auto s = open_store(dir.path(), 64);
  Digest k = sha256(bytes_of("k")), o = sha256(bytes_of("o"));
  auto a = bytes_of("small");
  std::vector<std::span<const uint8_t>> blobs{a};
  auto bad = s->put_minimized_many(blobs, {{k, {o}, 0}, {k, {}, 1}}, "{}");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == Errc::invalid_argument);
  std::vector<uint8_t> big(100, 'x');
  std::vector<std::span<const uint8_t>> two{a, big};
  auto full = s->put_minimized_many(two, {{k, {o}, 0}, {k, {}, 1}}, "{}");
  REQUIRE_FALSE(full.ok());
  CHECK(full.error().code == Errc::no_space);
  auto u = s->usage();
  CHECK(u.minimized == 0);
  CHECK(u.blobs == 0);
  CHECK(count_files(dir / "blobs") == 0);
}
