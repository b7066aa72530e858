// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Talking to btfd from btfctl: socket selection and Varlink errors as Errors.

#include "cli/cli.hpp"
#include "proto/varlink.hpp"

namespace btfctl {

// --socket, else $BTFD_SOCKET, else the default socket.
std::string socket_path(const Globals& g);
// How long btfctl waits for any one reply.
inline constexpr int kReplyTimeoutMs = 300000;
btfd::Result<btfd::proto::Client> connect_daemon(const Globals& g, int timeout_ms = kReplyTimeoutMs);
// Calls a method; a Varlink error reply becomes an Error with a fitting code.
btfd::Result<btfd::proto::Message> call_daemon(const Globals& g, const std::string& method,
                                               const nlohmann::json& params, std::span<const int> fds = {},
                                               bool more = false,
                                               const std::function<void(const btfd::proto::Message&)>& on_reply = {},
                                               int timeout_ms = kReplyTimeoutMs);
// Like call_daemon, but a Varlink error reply is returned as the message (its
// "error" set), for callers that read the error's parameters (GetBtf's "object").
btfd::Result<btfd::proto::Message> call_daemon_raw(const Globals& g, const std::string& method,
                                                   const nlohmann::json& params, std::span<const int> fds = {},
                                                   bool more = false,
                                                   const std::function<void(const btfd::proto::Message&)>& on_reply = {},
                                                   int timeout_ms = kReplyTimeoutMs);
// An error reply as an Error: "Name: message" (btfd's messages do not repeat
// the name), with the field for InvalidParameter.
btfd::Error reply_error(const nlohmann::json& reply);

// Download progress from btfd's {state: "progress"} replies: a bar on stderr
// when it is a terminal; off a terminal one line per reply only when asked
// for (prefetch, for the kernel hooks' logs), otherwise nothing.
class ProgressDisplay {
 public:
  ProgressDisplay(const Globals& g, bool lines_off_terminal);
  // Whether to ask btfd for progress replies at all.
  bool wanted() const { return bar_ || lines_; }
  void operator()(const btfd::proto::Message& m);
  // Ends the bar's line (if one was drawn). complete: the download finished
  // (the call succeeded), so the bar is drawn full at the real total: the
  // last progress reply may have come before the last bytes did.
  void finish(bool complete = false);

 private:
  void draw(uint64_t done, uint64_t total);
  bool bar_ = false, lines_ = false, drawn_ = false;
  uint64_t total_ = 0;
};

std::string human_size(uint64_t bytes);
std::string kernel_string(const nlohmann::json& k);

}  // namespace btfctl
