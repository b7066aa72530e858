// SPDX-License-Identifier: GPL-2.0-or-later
// What a call holds and how it is given back: its cost handle (connection.hpp),
// the quotas it takes from, and the memory check that refuses heavy work
// before the kernel's OOM killer would take every call down.
#include <cstdlib>
#include <cstring>

#include "util/fd.hpp"
#include "util/log.hpp"
#include "varlink/connection.hpp"
#include "varlink/server.hpp"

namespace btfd::server {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
namespace errors = proto::errors;

namespace {
// btfd's anonymous memory (RssAnon in /proc/self/status), in bytes; 0 when
// it cannot be read.
uint64_t anonymous_memory_bytes() {
  auto status = read_text_file("/proc/self/status", 8192);
  if (!status) return 0;
  auto pos = status->find("RssAnon:");
  if (pos == std::string::npos) return 0;
  return std::strtoull(status->c_str() + pos + 8, nullptr, 10) * 1024;  // "RssAnon:  1234 kB"
}
}  // namespace

void Server::cancel_all_calls() {
  for (auto& [_, c] : conns_)
    for (auto& [seq, weak] : c->live)
      if (auto costs = weak.lock()) costs->cancelled = true;
  // Calls still reading their objects are answered now.
  std::vector<uint64_t> pending;
  for (auto& [id, _] : pending_objects_) pending.push_back(id);
  for (uint64_t id : pending)
    if (auto it = pending_objects_.find(id); it != pending_objects_.end())
      object_read_done(*it->second, make_error(Errc::busy, "btfd is stopping; retry"));
}

std::shared_ptr<Server::CallCosts> Server::open_costs(Connection& c, uint64_t seq) {
  auto* raw = new CallCosts;
  raw->server = this;
  raw->conn = c.id;
  raw->seq = seq;
  raw->uid = c.cred.uid;
  raw->reserved = c.reserved;
  std::shared_ptr<CallCosts> costs(raw, [this](CallCosts* x) { release_costs(x); });
  c.live[seq] = costs;
  return costs;
}

void Server::release_costs(CallCosts* x) {
  if (std::this_thread::get_id() != loop_thread_) {
    // The last copy went on a worker: the quotas are the loop's.
    pool_->post([this, x] { release_costs(x); });
    return;
  }
  std::unique_ptr<CallCosts> owned(x);
  fd_quota_.give_back(x->uid, x->fds, x->reserved);
  object_quota_.give_back(x->uid, x->object_bytes, x->reserved);
  if (x->call_slot) call_quota_.give_back(x->uid, 1, x->reserved);
  auto it = conns_.find(x->conn);
  Connection* c = it == conns_.end() ? nullptr : it->second.get();
  if (c) c->live.erase(x->seq);
  if (x->inflight) {
    --inflight_;
    if (c) --c->inflight;
  }
  // A half-closed client whose last call just ended is done.
  if (c && !c->closing && answered_all(*c)) close_connection(x->conn);
  maybe_exit();
}

bool Server::admit(Connection& c, Call& call, bool heavy) {
  if (c.inflight >= cfg_.max_inflight_per_connection) {
    fail(call, errors::kBusy, "too many requests in flight on this connection (at most " +
                                  std::to_string(cfg_.max_inflight_per_connection) +
                                  ": [Limits] MaxInFlightPerConnection=)", "busy");
    return false;
  }
  if (heavy) {
    if (std::string why = memory_refusal(); !why.empty()) {
      fail(call, make_error(Errc::busy, why));
      return false;
    }
  }
  if (auto r = call_quota_.take(call.uid, 1, c.reserved); r != Quota::Refusal::none) {
    ++stats_.refused_calls;
    fail(call, make_error(Errc::busy, call_quota_.refusal(r, call.uid, 1) + "; retry"));
    return false;
  }
  if (!call.costs) call.costs = open_costs(c, call.seq);
  call.costs->call_slot = true;
  call.costs->inflight = true;
  ++c.inflight;
  ++inflight_;
  return true;
}

std::optional<Error> Server::take_fds(Call& call, uint64_t n) {
  if (n == 0) return std::nullopt;
  CallCosts& k = *call.costs;
  if (auto r = fd_quota_.take(k.uid, n, k.reserved); r != Quota::Refusal::none)
    return make_error(Errc::busy, fd_quota_.refusal(r, k.uid, n) + "; retry");
  k.fds += n;
  return std::nullopt;
}

// One call may hold the whole per-user amount (past it: TooLarge, the call
// can never succeed), and all calls together the total (Busy: it may later).
std::optional<Error> Server::take_object_bytes(Call& call, uint64_t n) {
  CallCosts& k = *call.costs;
  if (k.object_bytes + n > object_quota_.per_uid_limit())
    return make_error(Errc::too_large, "the objects total more than " + std::to_string(object_quota_.per_uid_limit()) +
                                           " bytes, btfd's limit per client ([Limits] MaxObjectBytesPerUser=)");
  if (auto r = object_quota_.take(k.uid, n, k.reserved); r != Quota::Refusal::none)
    return make_error(Errc::busy, object_quota_.refusal(r, k.uid, n) + "; retry");
  k.object_bytes += n;
  return std::nullopt;
}

// The limit is the cgroup's (btfd.service's MemoryMax=) unless btfd.conf
// sets one. What counts is btfd's anonymous memory (RssAnon): the page cache
// and the mapped blob files are given back by the kernel before it kills.
void Server::find_memory_limit() {
  memory_limit_ = cfg_.memory_limit;
  if (memory_limit_) return;
  auto cgroup = read_text_file("/proc/self/cgroup", 4096);
  if (!cgroup) return;
  // One line per hierarchy, "ID:CONTROLLERS:/PATH": cgroup v2's "0::/PATH"
  // (memory.max), or v1's memory controller (memory.limit_in_bytes), as a
  // mixed host still has.
  std::string_view lines = *cgroup;
  while (!lines.empty()) {
    std::string_view line = lines.substr(0, lines.find('\n'));
    lines.remove_prefix(std::min(lines.size(), line.size() + 1));
    auto first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string_view::npos || second == std::string_view::npos) continue;
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    std::string path(line.substr(second + 1));
    std::string file;
    if (controllers.empty()) file = "/sys/fs/cgroup" + path + "/memory.max";
    else if (controllers == "memory" || controllers.find("memory,") == 0 || controllers.find(",memory") != std::string_view::npos)
      file = "/sys/fs/cgroup/memory" + path + "/memory.limit_in_bytes";
    else continue;
    auto max = read_text_file(file, 64);
    if (!max || max->rfind("max", 0) == 0) continue;
    uint64_t limit = std::strtoull(max->c_str(), nullptr, 10);
    // v1 says "no limit" with a page-rounded LONG_MAX.
    if (limit && limit < (1ull << 60) && (!memory_limit_ || limit < memory_limit_)) memory_limit_ = limit;
  }
}

std::string Server::memory_refusal() {
  if (!memory_limit_) return {};
  auto now = Clock::now();
  if (now - memory_read_ > std::chrono::milliseconds(100)) {
    memory_read_ = now;
    memory_used_ = anonymous_memory_bytes();
  }
  if (memory_used_ / 100 * 100 < memory_limit_ / 100 * 85) return {};
  return "btfd is using " + std::to_string(memory_used_ >> 20) + " MiB of the " + std::to_string(memory_limit_ >> 20) +
         " MiB it may (" + (cfg_.memory_limit ? "[Limits] MemoryLimit=" : "its unit's MemoryMax=") +
         "): no new work until calls end; retry";
}


}  // namespace btfd::server
