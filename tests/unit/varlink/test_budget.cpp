// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "varlink/budget.hpp"

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

TEST_CASE("ordinary users share the total less the reserve; a privileged caller has the whole total") {
  Quota q({"descriptors", "MaxDescriptorsPerUser", "MaxDescriptors"}, 8, 16, 2);
  CHECK(q.take(1000, 8) == Quota::Refusal::none);
  CHECK(q.take(1001, 8) == Quota::Refusal::shared);  // 6 left of the 14 users share
  CHECK(q.refusal(Quota::Refusal::shared, 1001, 8).find("ordinary users together hold 8 of the 14 descriptors") !=
        std::string::npos);
  CHECK(q.take(1001, 6) == Quota::Refusal::none);
  CHECK(q.take(1002, 1) == Quota::Refusal::shared);
  CHECK(q.take(0, 2, true) == Quota::Refusal::none);  // the reserve is root's
  CHECK(q.take(0, 1, true) == Quota::Refusal::total);
  CHECK(q.refusal(Quota::Refusal::total, 0, 1).find("btfd holds 16 of its 16 descriptors in all ([Limits] MaxDescriptors=)") !=
        std::string::npos);
  q.give_back(1000, 8);
  CHECK(q.take(0, 8, true) == Quota::Refusal::none);  // past the per-UID limit: root is held to the total only
  CHECK(q.take(1003, 9) == Quota::Refusal::per_uid);
  CHECK(q.refusal(Quota::Refusal::per_uid, 1003, 9).find("uid 1003 holds 0 of its 8 descriptors") != std::string::npos);
  q.give_back(0, 10, true);
  q.give_back(1001, 6);
  CHECK(q.used() == 0);
  CHECK(q.take(1004, 8) == Quota::Refusal::none);  // the shared part was given back too
}
