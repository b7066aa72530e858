// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// What a mirror entry may be, checked once at start-up and again whenever
// health is reported: https://, http://, file:// or an absolute directory.
// A local mirror whose directory is missing answers "no such file" for every
// kernel, which would read as "not in hub"; it is a configuration error at
// start-up and an unhealthy mirror later. Remote mirrors are not contacted
// here: a host that starts offline must still start.

#include <string>
#include <string_view>

#include "util/result.hpp"

namespace btfd::hub {

// invalid_argument naming the mirror when its scheme is not allowed, a local
// path is relative, or its directory does not exist.
Status validate_mirror(const std::string& mirror);

// Why the mirror cannot answer right now ("" when nothing is known to be
// wrong): an unsupported scheme, or a local directory that is gone.
std::string mirror_problem(const std::string& mirror);

// Plain directory paths become file:// URLs; URLs are returned unchanged.
std::string mirror_base_url(const std::string& mirror);

// The "user:password@" of a URL's authority (a scheme is optional: proxies are
// often written host:port), or "" when it has none. btfd refuses such URLs:
// a URL reaches argv, logs, errors sent to clients and Stats.
std::string_view url_userinfo(std::string_view url);
// The URL with its userinfo replaced by "***@", for the error that refuses it.
std::string url_without_userinfo(std::string_view url);

}  // namespace btfd::hub
