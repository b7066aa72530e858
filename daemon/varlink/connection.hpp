// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// What the server keeps per client connection and per call (internal to
// daemon/varlink/).

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/guard.hpp"
#include "varlink/call.hpp"
#include "varlink/server.hpp"

namespace btfd::server {

// Runs one event callback; nothing a client sends may take the loop down.
template <typename F>
int guarded(const char* what, F&& f) noexcept {
  run_guarded(what, std::forward<F>(f));
  return 0;
}

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
  // Encoded; nullopt for a oneway call's (nothing to send).
  std::map<uint64_t, std::pair<std::optional<std::string>, std::vector<UniqueFd>>> parked;
  // Its calls that hold something, by seq: cancelled when the connection closes.
  std::map<uint64_t, std::weak_ptr<CallCosts>> live;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_write = last;       // last reply byte the client took
  std::chrono::steady_clock::time_point message_started = last;  // first byte of the unfinished message
};

// A call whose objects are being read (object_reads.cpp).
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
  std::vector<ClientObject> objects;
  std::vector<Slot> slots;
  size_t remaining = 0;
  sd_event_source* deadline = nullptr;
  ObjectsRead done;  // what the method does with them
};

// The peer's supplementary groups; empty when the kernel cannot say.
std::vector<gid_t> peer_groups(int fd);

}  // namespace btfd::server
