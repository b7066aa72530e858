// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// What the server keeps per client connection and per call (internal to
// server.cpp, dispatch.cpp and object_reads.cpp).

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "server/server.hpp"

namespace btfd::server {

// A connection stops being read while it has this many replies (or bytes)
// queued that it has not read: sd-varlink bounds its queue the same way.
inline constexpr size_t kMaxQueuedReplies = 8;
inline constexpr size_t kBackpressureBytes = 1 << 20;
// A single connection's unread replies may never exceed this; one reply of
// the largest size (proto::kMaxReplyBytes) on an empty queue always fits.
inline constexpr size_t kMaxOutBytesPerConnection = 8 << 20;
// Connections through the admin socket or from root, all together (each UID
// also within MaxConnectionsPerUser): apart from MaxConnections, so that users
// filling that cannot lock the administrators out.
inline constexpr size_t kAdminConnections = 32;
// The error of a call that ended without running, or stopped at a checkpoint.
inline constexpr const char* kCancelled = "cancelled: the client went away or btfd is stopping";
// GetBtf's "names": one per object at most, each at most this long (NAME_MAX).
inline constexpr size_t kMaxObjectName = 255;

struct Server::Connection {
  struct Out {
    std::string bytes;
    std::vector<UniqueFd> fds;
    size_t sent = 0;
  };
  ~Connection();
  uint64_t id = 0;
  Server* server = nullptr;
  UniqueFd fd;
  sd_event_source* src = nullptr;
  uint32_t events = EPOLLIN;
  proto::FrameReader reader{proto::kMaxMessageBytes};
  struct ucred cred {};
  std::vector<gid_t> groups;  // supplementary groups (SO_PEERGROUPS)
  bool admin = false;         // came through the admin socket
  bool reserved = false;      // counted in admin_conn_quota_ (admin socket or root), not conn_quota_
  // The client shut down its writing side (printf ... | nc -U): what it sent
  // is still answered, then the connection is closed.
  bool read_closed = false;
  bool closing = false;  // close_connection() is under way: nothing may close it again
  std::deque<Out> out;
  size_t out_bytes = 0;
  size_t fds_parked = 0;      // received, counted in fd_quota_, not yet handed to a call
  unsigned inflight = 0;
  // Varlink replies carry no call id: they go out in the order of the calls.
  // A call's final reply waits here until every earlier call was answered.
  uint64_t next_seq = 0;  // given to the next call
  uint64_t head_seq = 0;  // the call whose reply goes out next
  std::map<uint64_t, std::pair<nlohmann::json, std::vector<UniqueFd>>> parked;
  // Its calls that hold something, by seq: cancelled when the connection closes.
  std::map<uint64_t, std::weak_ptr<CallCosts>> live;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_write = last;       // last reply byte the client took
  std::chrono::steady_clock::time_point message_started = last;  // first byte of the unfinished message
};

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
  bool privileged = false;  // root or the admin socket: may use the quotas' reserve
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
  bool more = false;
  bool oneway = false;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::shared_ptr<CallCosts> costs;  // what it holds (never null for a call from a connection)
  bool cancelled() const { return costs && costs->cancelled.load(std::memory_order_relaxed); }
};

// A GetBtf call whose objects are being read (object_reads.cpp).
struct Server::PendingObjects {
  struct Slot {
    sd_event_source* src = nullptr;
    bool done = true;
    bool file = false;  // a regular file being read by a reader thread
  };
  ~PendingObjects() {
    for (auto& s : slots)
      if (s.src) sd_event_source_disable_unref(s.src);
    if (deadline) sd_event_source_disable_unref(deadline);
  }
  Server* server = nullptr;
  uint64_t id = 0;
  Call call;
  KernelIdentity kid;
  std::vector<ClientObject> objects;
  std::vector<Slot> slots;
  size_t remaining = 0;
  sd_event_source* deadline = nullptr;
  std::function<Status()> gate;
  bool ask_hub_again = false;  // GetBtf's "refresh"
};

// The peer's supplementary groups; empty when the kernel cannot say.
std::vector<gid_t> peer_groups(int fd);

}  // namespace btfd::server
