// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <cerrno>

#include "util/result.hpp"

using namespace btfd;

static Result<int> half(int x) {
  if (x % 2) return make_error(Errc::invalid_argument, "odd");
  return x / 2;
}

static Result<int> quarter(int x) {
  BTFD_TRY(int h, half(x));
  BTFD_TRY(int q, half(h));
  return q;
}

TEST_CASE("Result carries a value or an error") {
  auto ok = half(8);
  REQUIRE(ok.ok());
  CHECK(*ok == 4);
  auto bad = half(3);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == Errc::invalid_argument);
  CHECK(bad.error().message == "odd");
  CHECK(bad.value_or(-1) == -1);
}

TEST_CASE("BTFD_TRY propagates the first error") {
  CHECK(*quarter(8) == 2);
  auto r = quarter(6);  // 6/2 = 3 is odd
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "odd");
}

TEST_CASE("sys_error maps errno and keeps the message") {
  Error e = sys_error(ENOSPC, "write \"x\"");
  CHECK(e.code == Errc::no_space);
  CHECK(e.sys_errno == ENOSPC);
  CHECK(e.message.find("write \"x\": ") == 0);
  CHECK(sys_error(ENOENT, "a").code == Errc::not_found);
  CHECK(sys_error(EROFS, "a").code == Errc::permission);
  CHECK(std::string(errc_name(Errc::not_in_hub)) == "not-in-hub");
}

TEST_CASE("Status and wrap") {
  Status s;
  CHECK(s.ok());
  Status f = make_error(Errc::corrupt, "bad");
  CHECK_FALSE(f.ok());
  Error w = make_error(Errc::corrupt, "bad").wrap("\"file\"");
  CHECK(w.message == "\"file\": bad");
}
