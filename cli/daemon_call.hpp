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
std::string human_size(uint64_t bytes);
std::string kernel_string(const nlohmann::json& k);

}  // namespace btfctl
