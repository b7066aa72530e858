// SPDX-License-Identifier: LGPL-2.1-or-later
#include "util/helper_path.hpp"

#include <unistd.h>

#include <cstdlib>

namespace btfd {

std::string helper_path(const char* env_name, const char* name, const char* installed) {
  if (const char* env = std::getenv(env_name); env && *env) return env;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    std::string beside(self, static_cast<size_t>(n));
    beside.erase(beside.rfind('/') + 1);
    beside += name;
    if (::access(beside.c_str(), X_OK) == 0) return beside;
  }
  return installed;
}

}  // namespace btfd
