// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "util/log.hpp"

using namespace btfd;

TEST_CASE("log levels parse and gate output") {
  log::Level l{};
  CHECK(log::parse_level("debug", &l));
  CHECK(l == log::Level::debug);
  CHECK(log::parse_level("warn", &l));
  CHECK(l == log::Level::warning);
  CHECK_FALSE(log::parse_level("loud", &l));
  log::set_level(log::Level::warning);
  CHECK(log::enabled(log::Level::error));
  CHECK_FALSE(log::enabled(log::Level::info));
  int evaluated = 0;
  log_debug("%d", ++evaluated);  // arguments are not evaluated when the level is off
  CHECK(evaluated == 0);
  log::set_level(log::Level::info);
}
