// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Runs each hub try in btfd-fetch, a short-lived child process, the way
// systemd-importd hands downloads to systemd-pull: libcurl, TLS and
// libarchive parse what a mirror sends, so they run in an address space that
// holds nothing but the one output file, and a crash there costs one try, not
// the daemon. The daemon also stays free of those libraries (and their memory).
//
// The protocol it speaks is fetch_protocol.hpp's.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "hub/attempt.hpp"
#include "hub/fetch_protocol.hpp"

namespace btfd::hub {

// $BTFD_FETCH_HELPER, else btfd-fetch next to the running executable (a build
// tree), else the installed one.
std::string default_fetch_helper();
// A child still running `grace` after the transfer timeout is killed.
AttemptFn fetch_helper_attempt(std::string helper_path, std::chrono::milliseconds grace = std::chrono::seconds(30));

// Kills every fetch helper still running and refuses to start more (shutdown
// past its bound): their tries fail at once as cancelled and the workers
// waiting on them return. One-way: the process is about to exit.
void cancel_running_helpers();

}  // namespace btfd::hub
