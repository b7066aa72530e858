// SPDX-License-Identifier: GPL-2.0-or-later
// From a message to a method and back: the envelope checked, the method
// found in the interface table (its parameters checked against it, its access
// enforced), its handler called with a Request; answers and errors built
// here only, in call order; work queued on the lanes.
#include <grp.h>
#include <malloc.h>
#include <sys/socket.h>

#include <algorithm>
#include <exception>
#include <string_view>

#include "proto/interface.hpp"
#include "util/log.hpp"
#include "varlink/connection.hpp"
#include "varlink/params.hpp"

namespace btfd::server {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
namespace errors = proto::errors;

namespace {

// Client text in a reply or a log line: bounded.
std::string shorten(std::string_view s, size_t max = 128) {
  return s.size() > max ? std::string(s.substr(0, max)) + "..." : std::string(s);
}

// The message's top-level fields (Varlink's) and what each must be.
struct Envelope {
  const char* name;
  bool (*valid)(const json&);
  const char* must_be;
};
constexpr Envelope kEnvelope[] = {
    {"method", [](const json& v) { return v.is_string(); }, "must be a string"},
    {"parameters", [](const json& v) { return v.is_object() || v.is_null(); }, "must be an object"},
    {"more", [](const json& v) { return v.is_boolean() || v.is_null(); }, "must be a boolean"},
    {"oneway", [](const json& v) { return v.is_boolean() || v.is_null(); }, "must be a boolean"},
    {"upgrade", [](const json& v) { return v.is_boolean() || v.is_null(); }, "must be a boolean"},
};

// The outcome a failed call is counted under in Stats, by its wire name.
const char* outcome_of(std::string_view name) {
  static constexpr std::pair<std::string_view, const char*> kOutcomes[] = {
      {errors::kKernelNotInHub, "not_in_hub"}, {errors::kPermissionDenied, "denied"},
      {errors::kInvalidParameter, "invalid"},  {errors::kInvalidKernel, "invalid"},
      {errors::kInvalidBundle, "invalid"},     {errors::kBusy, "busy"}};
  for (const auto& [n, outcome] : kOutcomes)
    if (n == name) return outcome;
  return "error";
}

}  // namespace

std::vector<gid_t> peer_groups(int fd) {
  std::vector<gid_t> groups(64);
  socklen_t len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) < 0) {
    if (errno != ERANGE) return {};
    groups.resize(len / sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) < 0) return {};
  }
  groups.resize(len / sizeof(gid_t));
  return groups;
}

bool Server::privileged(const Connection& c) const {
  if (c.admin || c.cred.uid == 0 || c.cred.uid == ::geteuid()) return true;
  if (cfg_.allow_gid == static_cast<gid_t>(-1)) return false;
  return c.cred.gid == cfg_.allow_gid ||
         std::find(c.groups.begin(), c.groups.end(), cfg_.allow_gid) != c.groups.end();
}

// Unprivileged clients may send only so many misses to the hub: made-up
// kernel names would otherwise cost a mirror request and a negative row each.
std::function<Status()> Server::hub_gate(const Call& call) const {
  if (call.privileged) return {};
  return [limiter = hub_lookups_, uid = call.uid]() -> Status {
    uint64_t retry = 0;
    if (limiter->try_acquire(uid, &retry)) return {};
    return make_error(Errc::busy, "uid " + std::to_string(uid) + " asked the hub for too many kernels; retry in " +
                                      std::to_string(retry) + " s");
  };
}

void Server::finish_call(const Call& call, const char* outcome) {
  stats_.request(call.method, outcome, std::chrono::duration<double>(Clock::now() - call.started).count());
}

// A call's final reply, in call order: parked until the calls before it on
// its connection have been answered, then sent with every parked successor.
void Server::deliver(const Call& call, std::optional<std::string> reply, std::vector<UniqueFd> fds) {
  auto it = conns_.find(call.conn);
  if (it == conns_.end()) return;
  Connection& c = *it->second;
  // A call answers once: a second answer (a handler that threw after it
  // had replied) is dropped, never parked for ever.
  if (call.seq < c.head_seq || c.parked.count(call.seq)) return;
  uint64_t id = c.id;
  if (call.seq == c.head_seq && c.parked.empty()) {
    // Its turn, and nothing parked behind it (the usual case): straight out.
    ++c.head_seq;
    if (reply) send_encoded(id, std::move(*reply), std::move(fds));
  } else {
    c.parked.emplace(call.seq, std::make_pair(std::move(reply), std::move(fds)));
    for (auto p = c.parked.find(c.head_seq); p != c.parked.end(); p = c.parked.find(c.head_seq)) {
      auto [bytes, f] = std::move(p->second);
      c.parked.erase(p);
      ++c.head_seq;
      if (bytes) send_encoded(id, std::move(*bytes), std::move(f));  // nullopt: a oneway call, nothing to send
      if (!conns_.count(id)) return;
    }
  }
  if (!conns_.count(id)) return;
  if (answered_all(c)) close_connection(id);  // a half-closed client's last call was a oneway one
}

void Server::answer(const Call& call, json result, std::vector<UniqueFd> fds) {
  deliver(call, call.oneway ? std::nullopt : std::optional<std::string>(proto::encode(proto::reply(std::move(result)))),
          std::move(fds));
  finish_call(call, "ok");
}

void Server::answer_encoded(const Call& call, std::string reply, std::vector<UniqueFd> fds) {
  deliver(call, call.oneway ? std::nullopt : std::optional<std::string>(std::move(reply)), std::move(fds));
  finish_call(call, "ok");
}

void Server::fail(const Call& call, const char* name, const std::string& message, json extra) {
  extra["message"] = message;
  deliver(call, call.oneway ? std::nullopt : std::optional<std::string>(proto::encode(proto::error_reply(name, std::move(extra)))),
          {});
  finish_call(call, outcome_of(name));
}

void Server::fail_parameter(const Call& call, const std::string& parameter, const std::string& message) {
  fail(call, errors::kInvalidParameter, message, {{"parameter", parameter}});
}

// A request that failed is worth a line in the journal, with who asked: the
// operator sees "not in hub", hub trouble and bad objects without asking the
// client. Any user can make requests fail, so these lines are rate-limited
// (60 a minute in all), and Busy answers, cancelled calls and malformed calls
// are not logged. An error about one of the call's objects says which, as
// "object" (its index in "objects") and at the head of the message, so that a
// client can name it as its user knows it.
void Server::fail(const Call& call, const Error& e) {
  const char* name = proto::error_name(e);
  std::string message = e.object >= 0 ? "object #" + std::to_string(e.object) + ": " + e.message : e.message;
  if (e.code != Errc::busy && e.code != Errc::cancelled && failure_log_.try_acquire(0))
    log_notice("%s from pid %d (uid %u) failed: %s: %s", call.method, static_cast<int>(call.pid), call.uid,
               name + std::string_view(name).rfind('.') + 1, message.c_str());
  json extra = json::object();
  if (e.object >= 0) extra["object"] = e.object;
  fail(call, name, message, std::move(extra));
}

void Server::handle_message(Connection& c, proto::Message msg) {
  Call call;
  call.conn = c.id;
  call.seq = c.next_seq++;
  call.uid = c.cred.uid;
  call.pid = c.cred.pid;
  const json& j = msg.json;
  for (const auto& [key, value] : j.items()) {
    const Envelope* e = nullptr;
    for (const auto& f : kEnvelope)
      if (key == f.name) e = &f;
    if (!e) return fail_parameter(call, shorten(key, 64), "unknown field in the message");
    if (!e->valid(value)) return fail_parameter(call, key, e->must_be);
  }
  auto method_it = j.find("method");
  if (method_it == j.end()) return fail_parameter(call, "method", "missing");
  const std::string& method = method_it->get_ref<const std::string&>();
  auto flag = [&](const char* name) {
    auto it = j.find(name);
    return it != j.end() && it->is_boolean() && it->get<bool>();
  };
  call.more = flag("more");
  call.oneway = flag("oneway");
  if (flag("upgrade")) return fail_parameter(call, "upgrade", "btfd does not upgrade connections");
  if (call.more && call.oneway) return fail_parameter(call, "oneway", "a call cannot be both \"more\" and \"oneway\"");
  auto ref = proto::idl::find_method(method);
  const MethodHandler* handler = nullptr;
  if (ref)
    for (const auto& [m, h] : handlers_)
      if (m == ref->method) handler = h;
  if (!handler) {
    // A name without an interface part is an unknown interface, anything
    // else an unknown method (as the tests pin).
    bool iface = method.find('.') != std::string::npos;
    return fail(call, iface ? errors::kMethodNotFound : errors::kInterfaceNotFound,
                std::string(iface ? "unknown method" : "unknown interface") + " \"" + shorten(method) + "\"",
                {{iface ? "method" : "interface", shorten(method)}});
  }
  call.method = handler->name;
  call.privileged = privileged(c);
  static const json kEmpty = json::object();
  auto pit = j.find("parameters");
  const json& params = pit == j.end() || pit->is_null() ? kEmpty : *pit;
  if (auto bad = check_params(params, *ref->method, *ref->iface)) return fail_parameter(call, bad->parameter, bad->message);
  if (ref->method->access == proto::idl::Access::privileged && !call.privileged)
    return fail(call, errors::kPermissionDenied,
                std::string(handler->name) + " needs root, the allowed group or the admin socket");
  Request request{c, call, params, msg.fds};
  try {
    handler->handler(*this, request);
  } catch (const std::exception& e) {
    log_error("%s threw: %s", handler->name, e.what());
    if (conns_.count(call.conn))
      fail(call, errors::kInternal, std::string(handler->name) + " failed unexpectedly (btfd's log has the details)");
  }
}

// Work that may wait on a mirror runs in the hub lane ([Hub] Downloads=
// threads), everything else on the Workers: a stalled mirror then holds at
// most the hub lane, and Status, ListKernels, cache hits and minimizing for a
// kernel at hand never queue behind it. The hub lane's queue is bounded
// ([Hub] QueuedDownloads=): past it, calls are answered Busy at once.
Server::Lane Server::lane_for(const KernelIdentity& kid) {
  // Decided before queueing. Should the kernel be evicted between this
  // decision and the run, that rare fetch happens on the fast lane: it is
  // still bounded by the hub's timeouts and its circuit breaker.
  return service_.btf_at_hand(kid) ? Lane::fast : Lane::hub;
}

// Each UID may fill at most a quarter of the hub lane's queue, so that a few
// users asking for kernels no mirror answers cannot keep everyone else's
// first fetch waiting; root and the admin socket (privileged) are held to the
// whole queue only.
std::string Server::lane_full(Lane lane, uid_t uid, bool privileged) const {
  if (lane != Lane::hub) return {};
  size_t all = hub_pool_->queued(), share = std::max<size_t>(1, cfg_.queued_downloads / 4);
  if (all >= cfg_.queued_downloads)
    return std::to_string(all) + " calls already wait for one of the " + std::to_string(cfg_.downloads) +
           " hub download slots (at most " + std::to_string(cfg_.queued_downloads) +
           " may wait: [Hub] QueuedDownloads=); retry later";
  if (size_t mine = hub_pool_->queued(uid); !privileged && mine >= share)
    return "uid " + std::to_string(uid) + " has " + std::to_string(mine) + " calls waiting for a hub download slot, " +
           "its share (a quarter of [Hub] QueuedDownloads=" + std::to_string(cfg_.queued_downloads) + "); retry later";
  return {};
}

void Server::submit(Lane lane, uid_t uid, std::function<void()> job) {
  (lane == Lane::hub ? hub_pool_ : lane == Lane::control ? control_pool_ : pool_)->submit(uid, std::move(job));
}

void Server::run(Call call, Lane lane, std::function<Result<Reply>(Call&)> work) {
  if (std::string why = lane_full(lane, call.uid, call.costs && call.costs->reserved); !why.empty())
    return fail(call, make_error(Errc::busy, why));
  submit(lane, call.uid, [this, call, work = std::move(work)]() mutable {
    std::optional<Result<Reply>> r;
    try {
      r = call.cancelled() ? Result<Reply>(make_error(Errc::cancelled, kCancelled)) : work(call);
    } catch (const std::exception& e) {
      log_error("%s threw: %s", call.method, e.what());
      r = make_error(Errc::internal, std::string(call.method) + " failed unexpectedly (btfd's log has the details)");
    }
    work = nullptr;  // what the work held (a call's objects) goes now, on this thread
    // Large objects (or a minimization that hit its memory budget) were just
    // freed: hand the memory back now rather than keep a peak a client chose.
    if ((call.costs && call.costs->object_bytes >= (16u << 20)) || (!*r && r->error().code == Errc::too_large))
      malloc_trim(0);
    // The call moves to the loop: its cost handle is given back there.
    auto reply = std::make_shared<Result<Reply>>(std::move(*r));
    pool_->post([this, call = std::move(call), reply]() mutable {
      if (*reply) answer(call, std::move((*reply)->result), std::move((*reply)->fds));
      else fail(call, reply->error());
    });
  });
}

// A call made with "more" (Prefetch, GetBtf) hears how a download goes:
// {state: "progress", downloaded, total} replies, at most five a second,
// before its final reply. Called on a worker; the replies are sent on the loop.
hub::ProgressFn Server::progress_replies(const Call& call) {
  if (!call.more || call.oneway) return {};
  auto last = std::make_shared<Clock::time_point>();
  return [this, conn = call.conn, seq = call.seq, last](const hub::Progress& p) {
    auto now = Clock::now();
    if (now - *last < std::chrono::milliseconds(200)) return;
    *last = now;
    pool_->post([this, conn, seq, p] {
      // Progress is advisory: shown only while no earlier reply is due.
      auto it = conns_.find(conn);
      if (it == conns_.end() || it->second->head_seq != seq) return;
      send(conn, proto::reply({{"state", "progress"}, {"downloaded", p.downloaded}, {"total", p.total}}, true));
    });
  };
}

json Server::held() const {
  return {{"connections", conn_quota_.used() + admin_conn_quota_.used()}, {"descriptors", fd_quota_.used()},
          {"object_bytes", object_quota_.used()}, {"reply_bytes", reply_bytes_},
          {"calls", call_quota_.used()}, {"memory_limit", memory_limit_}};
}

}  // namespace btfd::server
