// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once
// Where a helper program btfd or btfctl runs lives (btfd-fetch, btfctl-archive).

#include <string>

namespace btfd {

// $env_name when set, else `name` beside the running executable when it is
// there (a build tree: tests run what was just built), else `installed`.
std::string helper_path(const char* env_name, const char* name, const char* installed);

}  // namespace btfd
