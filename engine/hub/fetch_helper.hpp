// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Runs each hub try in btfd-fetch, a short-lived child process, the way
// systemd-importd hands downloads to systemd-pull: libcurl, TLS and
// libarchive parse what a mirror sends, so they run in an address space that
// holds nothing but the one output file, and a crash there costs one try, not
// the daemon. The daemon also stays free of those libraries (and their memory).
//
// The child gets the output file as fd 3 and reports on fd 4, one line each:
//   progress <downloaded> <total>
//   done <downloaded> <size> <checksum verified: 0|1>
//   fail <errc-name> <fetch-failure> <errno> <message>

#include <chrono>
#include <string>
#include <string_view>

#include "hub/attempt.hpp"

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

// The protocol's pieces: btfd builds the arguments, btfd-fetch parses them
// and formats its report lines.
std::vector<std::string> helper_args(const std::string& helper_path, const AttemptRequest& req);
Result<AttemptRequest> parse_helper_args(int argc, char** argv);
std::string format_progress(const Progress& p);
std::string format_done(const AttemptResult& r);
std::string format_fail(const Error& e, FetchFailure failure);

}  // namespace btfd::hub
