// SPDX-License-Identifier: GPL-2.0-or-later
// A connection's life on the loop: accepted and counted, read into frames
// (bounded, in time), its messages handed to dispatch in order, its replies
// queued and written under backpressure, closed with everything it held.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/log.hpp"
#include "varlink/connection.hpp"
#include "varlink/server.hpp"

namespace btfd::server {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
namespace errors = proto::errors;
void Server::serve(UniqueFd fd, bool admin) {
  auto refuse = [&](const std::string& why) {
    std::string e = proto::encode(proto::error_reply(errors::kBusy, {{"message", why}}));
    (void)!::send(fd.get(), e.data(), e.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  };
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
    cred.uid = static_cast<uid_t>(-1);
    cred.gid = static_cast<gid_t>(-1);
  }
  if (stopping_) return refuse("btfd is stopping");
  const bool reserved = admin || cred.uid == 0;
  Quota& quota = reserved ? admin_conn_quota_ : conn_quota_;
  if (auto r = quota.take(cred.uid, 1); r != Quota::Refusal::none) {
    ++stats_.refused_connections;
    return refuse(quota.refusal(r, cred.uid, 1));
  }
  auto c = std::make_unique<Connection>();
  c->id = next_id_++;
  c->server = this;
  c->cred = cred;
  c->admin = admin;
  c->reserved = reserved;
  c->groups = peer_groups(fd.get());
  c->fd = std::move(fd);
  if (sd_event_add_io(event_, &c->src, c->fd.get(), EPOLLIN, on_conn_io, c.get()) < 0) {
    quota.give_back(cred.uid, 1);
    return;
  }
  conns_.emplace(c->id, std::move(c));
}

int Server::on_conn_io(sd_event_source*, int, uint32_t revents, void* conn) {
  auto* c = static_cast<Connection*>(conn);
  Server* self = c->server;
  uint64_t id = c->id;
  return guarded("serving a connection", [&] {
    try {
      self->handle_io(*c, revents);
    } catch (...) {
      // State of this connection is unknown now: drop it, keep serving others.
      self->close_connection(id);
      throw;
    }
  });
}

void Server::handle_io(Connection& c, uint32_t revents) {
  uint64_t id = c.id;
  if (revents & EPOLLOUT) {
    flush(c);
    if (!conns_.count(id)) return;
    if (!backlogged(c)) process_messages(c);  // messages held back while replies were queued
    if (!conns_.count(id)) return;
  }
  if (c.read_closed) {
    // Nothing more to read. A hang-up now means the client closed its end
    // too: nobody is left to answer (and epoll would report it again and again).
    if (revents & (EPOLLHUP | EPOLLERR)) close_connection(id);
    return;
  }
  if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) handle_readable(c);
}

bool Server::answered_all(const Connection& c) const {
  return c.read_closed && c.inflight == 0 && c.head_seq == c.next_seq && c.parked.empty() && c.out.empty() &&
         !c.reader.has_message();
}

// A client that sends calls but does not read the replies stops being read
// (backpressure): replies queue up to a small bound, never without one.
bool Server::backlogged(const Connection& c) const {
  return c.out.size() >= kMaxQueuedReplies || c.out_bytes >= kBackpressureBytes;
}

void Server::handle_readable(Connection& c) {
  uint64_t id = c.id;
  std::span<uint8_t> buf(read_buf_.get(), kReadChunk);
  for (int rounds = 0; rounds < 8 && !backlogged(c); ++rounds) {
    std::vector<UniqueFd> fds;
    ssize_t n = proto::recv_with_fds(c.fd.get(), buf, &fds);
    if (n < 0 && errno == EAGAIN) break;
    if (n == 0) {
      // End of input: the client may still be reading (a half-closed
      // socket). Its calls are answered; then flush() closes the connection.
      c.read_closed = true;
      if (answered_all(c)) close_connection(id);
      else update_events(c);
      return;
    }
    if (n < 0) {  // an error (e.g. too many fds): the client is gone; in-flight results are dropped
      close_connection(id);
      return;
    }
    auto now = Clock::now();
    c.last = last_activity_ = now;
    if (c.reader.buffered() == 0) c.message_started = now;
    if (!fds.empty()) {
      if (auto r = fd_quota_.take(c.cred.uid, fds.size(), c.reserved); r != Quota::Refusal::none) {
        ++stats_.refused_fds;
        send(id, proto::error_reply(errors::kBusy, {{"message", fd_quota_.refusal(r, c.cred.uid, fds.size())}}));
        close_connection(id);
        return;
      }
    }
    c.fds_parked += fds.size();
    if (auto st = c.reader.feed(buf.first(static_cast<size_t>(n)), std::move(fds)); !st) {
      const char* name = st.error().code == Errc::too_large ? errors::kTooLarge : errors::kInvalidParameter;
      send(id, proto::error_reply(name, {{"parameter", "message"}, {"message", st.error().message}}));
      close_connection(id);
      return;
    }
    process_messages(c);
    if (!conns_.count(id)) return;
  }
  update_events(c);
}

void Server::process_messages(Connection& c) {
  uint64_t id = c.id;
  while (!backlogged(c)) {
    auto msg = c.reader.next();
    if (!msg) {
      log_debug("connection %llu: %s", static_cast<unsigned long long>(id), msg.error().message.c_str());
      send(id, proto::error_reply(errors::kInvalidParameter, {{"parameter", "message"}, {"message", msg.error().message}}));
      close_connection(id);
      return;
    }
    if (!*msg) break;
    size_t nfds = (*msg)->fds.size();
    c.fds_parked -= std::min(c.fds_parked, nfds);
    // What the call keeps is counted again by the call; the rest is closed
    // with the message.
    fd_quota_.give_back(c.cred.uid, nfds, c.reserved);
    handle_message(c, std::move(**msg));
    if (!conns_.count(id)) return;
    if (c.reader.buffered() > 0) c.message_started = Clock::now();
  }
  update_events(c);
}

void Server::send(uint64_t conn_id, const json& j, std::vector<UniqueFd> fds) {
  if (!conns_.count(conn_id)) return;
  send_encoded(conn_id, proto::encode(j), std::move(fds));
}

void Server::send_encoded(uint64_t conn_id, std::string bytes, std::vector<UniqueFd> fds) {
  auto it = conns_.find(conn_id);
  if (it == conns_.end()) return;
  Connection& c = *it->second;
  Connection::Out o;
  o.bytes = std::move(bytes);
  if (o.bytes.size() > proto::kMaxReplyBytes) {
    o.bytes = proto::encode(proto::error_reply(errors::kTooLarge, {{"message", "the reply would be larger than " +
                                                                               std::to_string(proto::kMaxReplyBytes) + " bytes"}}));
    fds.clear();
  }
  o.fds = std::move(fds);
  size_t size = o.bytes.size();
  // Only a client that leaves replies unread is cut: the first reply on an
  // empty queue goes out whatever its size (it is at most kMaxReplyBytes).
  if (!c.out.empty() && c.out_bytes + size > kMaxOutBytesPerConnection) {
    log_notice("dropping a client (uid %u) that does not read its replies (%zu bytes queued)", c.cred.uid,
               c.out_bytes);
    close_connection(conn_id);
    return;
  }
  if (c.out.empty()) c.last_write = Clock::now();
  c.out_bytes += size;
  reply_bytes_ += size;
  c.out.push_back(std::move(o));
  flush(c);
  // Over the total: cut the client with the most unread bytes, not
  // necessarily this one.
  while (reply_bytes_ > cfg_.max_reply_bytes && !conns_.empty()) {
    auto worst = conns_.begin();
    for (auto i = conns_.begin(); i != conns_.end(); ++i)
      if (i->second->out_bytes > worst->second->out_bytes) worst = i;
    if (worst->second->out_bytes == 0) break;
    log_notice("dropping a client (uid %u) that does not read its replies (%zu bytes queued)",
               worst->second->cred.uid, worst->second->out_bytes);
    close_connection(worst->first);
  }
}

void Server::flush(Connection& c) {
  uint64_t id = c.id;
  while (!c.out.empty()) {
    auto& o = c.out.front();
    std::vector<int> raw;
    if (o.sent == 0)
      for (auto& f : o.fds) raw.push_back(f.get());
    size_t before = o.sent;
    Status st = proto::send_message(c.fd.get(), o.bytes, raw, &o.sent);
    size_t progress = o.sent - before;
    c.out_bytes -= progress;
    reply_bytes_ -= progress;
    if (progress) c.last_write = Clock::now();
    if (!st) {
      if (st.error().code == Errc::busy) break;
      close_connection(id);
      return;
    }
    c.out.pop_front();
  }
  if (answered_all(c)) {
    close_connection(id);
    return;
  }
  c.last = Clock::now();
  update_events(c);
}

void Server::update_events(Connection& c) {
  uint32_t want = 0;
  if (!backlogged(c) && !c.read_closed) want |= EPOLLIN;
  if (!c.out.empty()) want |= EPOLLOUT;
  if (want != c.events) {
    sd_event_source_set_io_events(c.src, want);
    c.events = want;
  }
}

void Server::close_connection(uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Connection& c = *it->second;
  if (c.closing) return;
  c.closing = true;
  reply_bytes_ -= std::min(reply_bytes_, c.out_bytes);
  fd_quota_.give_back(c.cred.uid, c.fds_parked, c.reserved);
  (c.reserved ? admin_conn_quota_ : conn_quota_).give_back(c.cred.uid, 1);
  // Nobody is left to answer: its queued calls end without running, its
  // running ones at their next checkpoint; what they hold is given back when
  // they end (their cost handles).
  for (auto& [_, weak] : c.live)
    if (auto costs = weak.lock()) costs->cancelled = true;
  cancel_pending_objects(id);
  conns_.erase(conns_.find(id));
  resume_accepting();  // an fd was freed
}


}  // namespace btfd::server
