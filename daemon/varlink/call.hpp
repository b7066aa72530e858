// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// A call as the transport hands it to a method: enough to answer it from
// anywhere on the loop, and the handle through which it owns its costs.

#include <atomic>
#include <chrono>
#include <memory>

#include "varlink/server.hpp"

namespace btfd::server {

// The error of a call that ended without running, or stopped at a checkpoint.
inline constexpr const char* kCancelled = "cancelled: the client went away or btfd is stopping";

// Everything one call holds, given back when the last copy of its handle
// goes, however the call ends: answered, failed, dropped with its connection,
// cut short by btfd stopping, or an exception. The copies of a Call (on the
// loop, in a worker's job, in a posted result) share the handle; the last one
// may go on a worker, so the giving back itself always runs on the loop
// (Server::release_costs). Work in progress polls `cancelled`: set when the
// connection closes or btfd stops, it makes a queued job end at once and a
// running minimization stop at its next checkpoint.
struct Server::CallCosts {
  Server* server = nullptr;
  uint64_t conn = 0;
  uint64_t seq = 0;
  uid_t uid = static_cast<uid_t>(-1);
  bool reserved = false;  // root or the admin socket: may use the quotas' reserve
  uint64_t fds = 0;           // from fd_quota_
  uint64_t object_bytes = 0;  // from object_quota_
  bool inflight = false;      // one of its connection's MaxInFlightPerConnection, and inflight_
  bool call_slot = false;     // from call_quota_ (MaxCallsPerUser=, MaxCalls=)
  std::atomic<bool> cancelled{false};
};

// One call being served: enough to answer it from anywhere on the loop.
struct Server::Call {
  uint64_t conn = 0;
  uint64_t seq = 0;  // order on its connection
  uid_t uid = static_cast<uid_t>(-1);
  pid_t pid = 0;
  const char* method = "unknown";  // a name from the method table: stats keys never come from clients
  bool privileged = false;         // may call privileged methods (root, the allowed group, the admin socket)
  bool more = false;
  bool oneway = false;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::shared_ptr<CallCosts> costs;  // what it holds (never null for a call from a connection)
  bool cancelled() const { return costs && costs->cancelled.load(std::memory_order_relaxed); }
};

}  // namespace btfd::server
