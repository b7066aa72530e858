// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "server/budget.hpp"

using namespace btfd::server;

TEST_CASE("a quota holds per UID and in total, and gives back exactly what was taken") {
  Quota q(10, 15);
  CHECK(q.try_take(1000, 10));
  CHECK_FALSE(q.try_take(1000, 1));  // per-UID limit
  CHECK(q.try_take(1001, 5));
  CHECK_FALSE(q.try_take(1002, 1));  // total limit, although 1002 holds nothing
  CHECK(q.used() == 15);
  q.give_back(1000, 4);
  CHECK(q.used_by(1000) == 6);
  CHECK(q.try_take(1002, 4));
  q.give_back(1000, 100);  // more than held: clamped, never wraps
  CHECK(q.used_by(1000) == 0);
  CHECK(q.used() == 9);
  q.give_back(4242, 3);  // a UID holding nothing
  CHECK(q.used() == 9);
}

TEST_CASE("a request larger than a limit is refused whole, not partly taken") {
  Quota q(8, 100);
  CHECK_FALSE(q.try_take(1, 9));
  CHECK(q.used() == 0);
  CHECK(q.used_by(1) == 0);
}

TEST_CASE("the rate limiter allows a burst per UID, then says when to retry") {
  RateLimiter r(3);
  uint64_t retry = 0;
  CHECK(r.try_acquire(7));
  CHECK(r.try_acquire(7));
  CHECK(r.try_acquire(7));
  CHECK_FALSE(r.try_acquire(7, &retry));
  CHECK(retry >= 1);
  CHECK(retry <= 20);  // one token back at 3 per minute
  CHECK(r.try_acquire(8));  // another UID has its own bucket
  RateLimiter unlimited(0);
  for (int i = 0; i < 1000; ++i) CHECK(unlimited.try_acquire(7));
}
