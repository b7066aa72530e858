// SPDX-License-Identifier: GPL-2.0-or-later
// "Not in hub" belongs to the mirror list that said it, and an operator can
// forget all of them; schema 3 brings older indexes there.
#include <doctest/doctest.h>

#include "store/schema.hpp"
#include "store/store.hpp"
#include "store_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace btfd;
using namespace btfd::store;

namespace {

KernelIdentity kid(const std::string& release) { return {"rhel", "8", "x86_64", release}; }

std::unique_ptr<Store> open_store(const std::string& dir) {
  auto s = Store::open({dir, 1 << 20});
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  return std::move(s).value();
}

int64_t g_now = 1000;
int64_t fake_now() { return g_now; }

bool negative(Store& s, const KernelIdentity& id, const std::string& mirrors) {
  auto n = s.find_negative(id, mirrors);
  REQUIRE(n.ok());
  return n->has_value();
}

}  // namespace

TEST_CASE("a negative answer holds only for the mirror list that gave it") {
  test::TempDir dir;
  auto s = open_store(dir.path());
  s->set_clock_for_testing(fake_now);
  REQUIRE(s->put_negative(kid("4.18.0-305.el8.x86_64"), 5000, "404 on every mirror", "typo-list").ok());
  CHECK(negative(*s, kid("4.18.0-305.el8.x86_64"), "typo-list"));
  // The mirror list was fixed: the old answer says nothing about the new one.
  CHECK_FALSE(negative(*s, kid("4.18.0-305.el8.x86_64"), "fixed-list"));
  // The new list's own answer replaces it (one row per kernel).
  REQUIRE(s->put_negative(kid("4.18.0-305.el8.x86_64"), 5000, "404", "fixed-list").ok());
  CHECK(negative(*s, kid("4.18.0-305.el8.x86_64"), "fixed-list"));
  CHECK_FALSE(negative(*s, kid("4.18.0-305.el8.x86_64"), "typo-list"));
  CHECK(s->usage().negative == 1);
}

TEST_CASE("clear_all_negative forgets every answer and says how many") {
  test::TempDir dir;
  auto s = open_store(dir.path());
  s->set_clock_for_testing(fake_now);
  for (int i = 0; i < 5; ++i) REQUIRE(s->put_negative(kid("r" + std::to_string(i)), 5000, "404", "m").ok());
  auto n = s->clear_all_negative();
  REQUIRE(n.ok());
  CHECK(*n == 5);
  CHECK_FALSE(negative(*s, kid("r0"), "m"));
  CHECK(s->usage().negative == 0);
}

TEST_CASE("schema 3 drops negative rows of an older index, whose mirror list is unknown") {
  test::TempDir dir;
  { open_store(dir.path()); }
  {
    // Back to what version 2 left: no mirrors column, one negative row.
    auto db = Db::open(dir / "index.sqlite");
    REQUIRE(db.ok());
    testing::back_to_schema5(*db);
    REQUIRE(db->exec("ALTER TABLE negative DROP COLUMN mirrors").ok());
    REQUIRE(db->exec("ALTER TABLE objects DROP COLUMN name").ok());  // schema 4's
    REQUIRE(db->exec("DROP INDEX objects_uid").ok());                 // schema 5's
    REQUIRE(db->exec("ALTER TABLE objects DROP COLUMN uid").ok());
    REQUIRE(db->exec("INSERT INTO negative VALUES ('rhel','8','x86_64','r',99999999999,'old')").ok());
    REQUIRE(db->exec("PRAGMA user_version = 2").ok());
  }
  auto s = open_store(dir.path());
  CHECK(s->usage().negative == 0);
  CHECK_FALSE(negative(*s, kid("r"), ""));
  REQUIRE(s->put_negative(kid("r"), 99999999999, "404", "m").ok());
  CHECK(negative(*s, kid("r"), "m"));
  auto db = Db::open(dir / "index.sqlite");
  REQUIRE(db.ok());
  auto st = db->prepare("PRAGMA user_version");
  REQUIRE(st.ok());
  REQUIRE(st->step().ok());
  CHECK(st->int64(0) == kSchemaVersion);
}
