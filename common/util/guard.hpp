// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once
// Boundaries where nothing may escape (an event loop's callbacks, a worker
// pool's jobs): run the code, log what it throws, go on.

#include <exception>

#include "util/log.hpp"

namespace btfd {

// Runs f(); an exception is logged as "<what> threw: ..." and swallowed.
// Returns false when f threw.
template <typename F>
bool run_guarded(const char* what, F&& f) noexcept {
  try {
    f();
    return true;
  } catch (const std::exception& e) {
    log_error("%s threw: %s", what, e.what());
  } catch (...) {
    log_error("%s threw a non-standard exception", what);
  }
  return false;
}

}  // namespace btfd
