// SPDX-License-Identifier: GPL-2.0-or-later
// The io.btfd methods: one table (name, parameter schema, who may call it,
// handler), checked before any handler runs. Handlers read only checked
// parameters; whatever still throws is answered as io.btfd.Internal.
#include <grp.h>
#include <sys/socket.h>

#include <algorithm>
#include <exception>
#include <map>
#include <string_view>

#include "btfd-config.h"
#include "server/connection.hpp"
#include "server/interface.hpp"
#include "server/params.hpp"
#include "util/log.hpp"

namespace btfd::server {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
namespace errors = proto::errors;

enum class Access { anyone, privileged };

struct MethodSpec {
  const char* name;
  std::vector<ParamField> params;
  Access access;
  void (Server::*handler)(Server::Connection&, Server::Call&, const json&, proto::Message&);
};

const std::vector<MethodSpec>& method_table() {
  static const std::vector<MethodSpec> table = {
      {"org.varlink.service.GetInfo", {}, Access::anyone, &Server::m_get_info},
      {"org.varlink.service.GetInterfaceDescription", {{"interface", ParamType::string}}, Access::anyone,
       &Server::m_get_interface},
      {"io.btfd.GetBtf",
       {{"kernel", ParamType::kernel},
        {"objects", ParamType::fd_indexes},
        {"names", ParamType::strings},
        {"refresh", ParamType::boolean}},
       Access::anyone,
       &Server::m_get_btf},
      {"io.btfd.ListKernels", {}, Access::anyone, &Server::m_list},
      {"io.btfd.Status", {}, Access::anyone, &Server::m_status},
      {"io.btfd.Stats", {{"prometheus", ParamType::boolean}}, Access::anyone, &Server::m_stats},
      {"io.btfd.Prefetch", {{"kernel", ParamType::kernel}, {"pin", ParamType::boolean}}, Access::privileged,
       &Server::m_prefetch},
      {"io.btfd.Refresh", {}, Access::privileged, &Server::m_refresh},
      {"io.btfd.GarbageCollect", {}, Access::privileged, &Server::m_gc},
      {"io.btfd.Verify", {}, Access::privileged, &Server::m_verify},
      {"io.btfd.ImportBundle", {{"bundle", ParamType::fd_index}}, Access::privileged, &Server::m_import_bundle},
  };
  return table;
}

namespace {

const MethodSpec* find_method(std::string_view name) {
  for (const auto& m : method_table())
    if (name == m.name) return &m;
  return nullptr;
}

// As before this table existed (and as the tests pin): a name without an
// interface part is an unknown interface, anything else an unknown method.
bool has_interface(std::string_view method) { return method.find('.') != std::string_view::npos; }

// Client text in a reply or a log line: bounded.
std::string shorten(std::string_view s, size_t max = 128) {
  return s.size() > max ? std::string(s.substr(0, max)) + "..." : std::string(s);
}

// The message's top-level fields (Varlink's).
struct Envelope {
  const char* name;
  bool is_string;
};
constexpr Envelope kEnvelope[] = {
    {"method", true}, {"parameters", false}, {"more", false}, {"oneway", false}, {"upgrade", false}};

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
std::function<Status()> Server::hub_gate(const Connection& c) const {
  if (privileged(c)) return {};
  return [limiter = hub_lookups_, uid = c.cred.uid]() -> Status {
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
void Server::deliver(const Call& call, std::optional<json> reply, std::vector<UniqueFd> fds) {
  auto it = conns_.find(call.conn);
  if (it == conns_.end()) return;
  Connection& c = *it->second;
  // A call answers once: a second answer (a handler that threw after it
  // had replied) is dropped, never parked for ever.
  if (call.seq < c.head_seq || c.parked.count(call.seq)) return;
  c.parked.emplace(call.seq, std::make_pair(reply ? std::move(*reply) : json(), std::move(fds)));
  uint64_t id = c.id;
  for (auto p = c.parked.find(c.head_seq); p != c.parked.end(); p = c.parked.find(c.head_seq)) {
    auto [j, f] = std::move(p->second);
    c.parked.erase(p);
    ++c.head_seq;
    if (!j.is_null()) send(id, j, std::move(f));  // null: a oneway call, nothing to send
    if (!conns_.count(id)) return;
  }
  if (answered_all(c)) close_connection(id);  // a half-closed client's last call was a oneway one
}

void Server::answer(const Call& call, json result, std::vector<UniqueFd> fds) {
  deliver(call, call.oneway ? std::nullopt : std::optional<json>(proto::reply(std::move(result))), std::move(fds));
  finish_call(call, "ok");
}

void Server::fail(const Call& call, const char* name, const std::string& message, const char* outcome, json extra) {
  extra["message"] = message;
  deliver(call, call.oneway ? std::nullopt : std::optional<json>(proto::error_reply(name, std::move(extra))), {});
  finish_call(call, outcome);
}

// A request that failed is worth a line in the journal, with who asked: the
// operator sees "not in hub", hub trouble and bad objects without asking the
// client. Any user can make requests fail, so these lines are rate-limited
// (60 a minute in all), and Busy answers, cancelled calls and malformed calls
// are not logged.
void Server::fail(const Call& call, const Error& e, std::optional<size_t> object) {
  const char* name = proto::error_name(e.code);
  if (e.code != Errc::busy && e.code != Errc::cancelled && failure_log_.try_acquire(0))
    log_notice("%s from pid %d (uid %u) failed: %s: %s", call.method, static_cast<int>(call.pid), call.uid,
               name + std::string_view(name).rfind('.') + 1, e.message.c_str());
  // An error about one of the call's objects says which (its index in
  // "objects"), so a client can name it as its user knows it.
  json extra = json::object();
  if (object) extra["object"] = *object;
  fail(call, name, e.message, e.code == Errc::not_in_hub ? "not_in_hub" : "error", std::move(extra));
}

void Server::handle_message(Connection& c, proto::Message msg) {
  Call call;
  call.conn = c.id;
  call.seq = c.next_seq++;
  call.uid = c.cred.uid;
  call.pid = c.cred.pid;
  const json& j = msg.json;
  auto invalid = [&](const std::string& parameter, const std::string& message) {
    fail(call, errors::kInvalidParameter, message, "invalid", {{"parameter", parameter}});
  };
  for (const auto& [key, value] : j.items()) {
    const Envelope* e = nullptr;
    for (const auto& f : kEnvelope)
      if (key == f.name) e = &f;
    if (!e) return invalid(shorten(key, 64), "unknown field in the message");
    if (key == std::string_view("method") ? !value.is_string()
        : key == std::string_view("parameters") ? !(value.is_object() || value.is_null())
                                                : !(value.is_boolean() || value.is_null()))
      return invalid(key, key == std::string_view("method")       ? "must be a string"
                          : key == std::string_view("parameters") ? "must be an object"
                                                                   : "must be a boolean");
  }
  auto method_it = j.find("method");
  if (method_it == j.end()) return invalid("method", "missing");
  const std::string& method = method_it->get_ref<const std::string&>();
  auto flag = [&](const char* name) {
    auto it = j.find(name);
    return it != j.end() && it->is_boolean() && it->get<bool>();
  };
  call.more = flag("more");
  call.oneway = flag("oneway");
  if (flag("upgrade")) return invalid("upgrade", "btfd does not upgrade connections");
  if (call.more && call.oneway) return invalid("oneway", "a call cannot be both \"more\" and \"oneway\"");
  const MethodSpec* spec = find_method(method);
  if (!spec) {
    bool iface = has_interface(method);
    return fail(call, iface ? errors::kMethodNotFound : errors::kInterfaceNotFound,
                std::string(iface ? "unknown method" : "unknown interface") + " \"" + shorten(method) + "\"", "error",
                {{iface ? "method" : "interface", shorten(method)}});
  }
  call.method = spec->name;
  static const json kEmpty = json::object();
  auto pit = j.find("parameters");
  const json& params = pit == j.end() || pit->is_null() ? kEmpty : *pit;
  if (auto bad = check_params(params, spec->params)) return invalid(bad->parameter, bad->message);
  if (spec->access == Access::privileged && !privileged(c))
    return fail(call, errors::kPermissionDenied,
                std::string(spec->name) + " needs root, the allowed group or the admin socket", "denied");
  try {
    (this->*spec->handler)(c, call, params, msg);
  } catch (const std::exception& e) {
    log_error("%s threw: %s", spec->name, e.what());
    if (conns_.count(call.conn)) fail(call, errors::kInternal, std::string(spec->name) + " failed unexpectedly (btfd's log has the details)", "error");
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

// Runs work on a worker; its result (or its error) is answered on the loop.
// A call whose client went away (or btfd is stopping) ends without running.
void Server::run_on_worker(Connection& c, Call call, std::function<Result<json>(Call&)> work, Lane lane) {
  if (std::string why = lane_full(lane, call.uid, c.reserved); !why.empty()) return fail(call, make_error(Errc::busy, why));
  if (!admit(c, call, lane != Lane::control)) return;
  submit(lane, call.uid, [this, call, work = std::move(work)]() mutable {
    std::optional<Result<json>> r;
    try {
      r = call.cancelled() ? Result<json>(make_error(Errc::cancelled, kCancelled)) : work(call);
    } catch (const std::exception& e) {
      log_error("%s threw: %s", call.method, e.what());
      r = make_error(Errc::internal, std::string(call.method) + " failed unexpectedly (btfd's log has the details)");
    }
    // The call moves to the loop: its cost handle is given back there.
    pool_->post([this, call = std::move(call), r = std::move(*r)]() mutable {
      if (r) answer(call, std::move(r).value());
      else fail(call, r.error());
    });
  });
}

void Server::m_get_info(Connection&, Call& call, const json&, proto::Message&) {
  answer(call, {{"vendor", "btfd"}, {"product", "btfd"}, {"version", BTFD_VERSION},
                {"url", "https://github.com/btfd/btfd"},
                {"interfaces", json::array({"org.varlink.service", proto::kInterface})}});
}

void Server::m_get_interface(Connection&, Call& call, const json& params, proto::Message&) {
  const json* iface = param(params, "interface");
  if (!iface) return fail(call, errors::kInvalidParameter, "missing", "invalid", {{"parameter", "interface"}});
  const std::string& name = iface->get_ref<const std::string&>();
  static const std::map<std::string_view, const char*> kDescriptions = {
      {proto::kInterface, kInterfaceDescription}, {"org.varlink.service", kServiceInterfaceDescription}};
  auto d = kDescriptions.find(name);
  if (d == kDescriptions.end())
    return fail(call, errors::kInterfaceNotFound, "unknown interface \"" + shorten(name) + "\"", "error",
                {{"interface", shorten(name)}});
  answer(call, {{"description", std::string(d->second)}});
}

void Server::m_get_btf(Connection& c, Call& call, const json& params, proto::Message& msg) {
  auto kid = identity_from_json(param(params, "kernel") ? *param(params, "kernel") : json(), service_.host().identity);
  if (!kid) return fail(call, errors::kInvalidKernel, kid.error().message, "invalid");
  if (auto st = service_.check_kernel(*kid); !st) return fail(call, errors::kInvalidKernel, st.error().message, "invalid");
  std::vector<UniqueFd> objects;
  if (const json* o = param(params, "objects")) {
    if (o->size() > cfg_.max_objects)
      return fail(call, errors::kTooLarge, std::to_string(o->size()) + " objects; btfd takes at most " +
                                               std::to_string(cfg_.max_objects) + " per request", "invalid");
    for (size_t i = 0; i < o->size(); ++i) {
      uint64_t idx = (*o)[i].get<uint64_t>();
      std::string field = "objects[" + std::to_string(i) + "]";
      if (idx >= msg.fds.size())
        return fail(call, errors::kInvalidParameter,
                    "descriptor " + std::to_string(idx) + " was not passed with this call (it came with " +
                        std::to_string(msg.fds.size()) + ")", "invalid", {{"parameter", field}});
      if (!msg.fds[idx])
        return fail(call, errors::kInvalidParameter, "descriptor " + std::to_string(idx) + " is named twice", "invalid",
                    {{"parameter", field}});
      objects.push_back(std::move(msg.fds[idx]));
    }
  }
  // "names": the objects' file names, for ListKernels only. Client text:
  // bounded here, reduced to a printable base name in read_objects.
  std::vector<std::string> names;
  if (const json* n = param(params, "names")) {
    if (n->size() > objects.size())
      return fail(call, errors::kInvalidParameter,
                  std::to_string(n->size()) + " names for " + std::to_string(objects.size()) + " objects", "invalid",
                  {{"parameter", "names"}});
    for (size_t i = 0; i < n->size(); ++i) {
      const std::string& name = (*n)[i].get_ref<const std::string&>();
      if (name.size() > kMaxObjectName)
        return fail(call, errors::kInvalidParameter,
                    "longer than " + std::to_string(kMaxObjectName) + " bytes", "invalid",
                    {{"parameter", "names[" + std::to_string(i) + "]"}});
      names.push_back(name);
    }
  }
  if (objects.empty()) {
    // Fast path: a verified cache hit is answered right here, without a thread hop.
    if (auto a = service_.try_cached(*kid)) {
      json result = answer_json(*a);
      std::vector<UniqueFd> fds;
      fds.push_back(std::move(a->blob.fd));
      return answer(call, std::move(result), std::move(fds));
    }
  }
  // Short of memory, a kernel at hand without objects is still answered:
  // it costs a descriptor, not a parse.
  if (!admit(c, call, !objects.empty() || !service_.btf_at_hand(*kid))) return;
  read_objects(c, call, *kid, std::move(objects), std::move(names), param_bool(params, "refresh", false));
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

void Server::m_prefetch(Connection& c, Call& call, const json& params, proto::Message&) {
  auto kid = identity_from_json(param(params, "kernel") ? *param(params, "kernel") : json(), service_.host().identity);
  if (!kid) return fail(call, errors::kInvalidKernel, kid.error().message, "invalid");
  if (auto st = service_.check_kernel(*kid); !st) return fail(call, errors::kInvalidKernel, st.error().message, "invalid");
  bool pin = param_bool(params, "pin", true);
  Lane lane = lane_for(*kid);
  run_on_worker(c, call, [this, kid = *kid, pin](Call& running) -> Result<json> {
    BTFD_TRY(auto r, service_.prefetch(kid, pin, progress_replies(running)));
    return json{{"state", "done"}, {"result", std::move(r)}};
  }, lane);
}

void Server::m_list(Connection& c, Call& call, const json&, proto::Message&) {
  run_on_worker(c, call, [this](Call&) { return service_.list(); }, Lane::control);
}

void Server::m_status(Connection& c, Call& call, const json&, proto::Message&) {
  run_on_worker(c, call, [this](Call&) -> Result<json> { return json{{"status", service_.status()}}; },
                Lane::control);
}

void Server::m_stats(Connection&, Call& call, const json& params, proto::Message&) {
  json out = {{"stats", stats_.to_json()}};
  out["stats"]["mirrors"] = service_.mirror_stats();
  out["stats"]["held"] = {{"connections", conn_quota_.used() + admin_conn_quota_.used()}, {"descriptors", fd_quota_.used()},
                          {"object_bytes", object_quota_.used()}, {"reply_bytes", reply_bytes_},
                          {"calls", call_quota_.used()}, {"memory_limit", memory_limit_}};
  if (param_bool(params, "prometheus", false)) {
    auto gauge = [](const char* help, json v) { return json{{"type", "gauge"}, {"help", help}, {"value", std::move(v)}}; };
    json metrics = {
        {"btfd_hot_kernels_bytes", gauge("Parsed kernel BTF kept in memory.", service_.hot_bytes())},
        {"btfd_connections", gauge("Client connections open.", conns_.size())},
        {"btfd_held_descriptors", gauge("Descriptors clients passed that btfd holds.", fd_quota_.used())},
        {"btfd_held_object_bytes", gauge("Object bytes held for calls.", object_quota_.used())},
        {"btfd_calls", gauge("Calls queued or running.", call_quota_.used())},
        {"btfd_queued_reply_bytes", gauge("Reply bytes clients have not read.", reply_bytes_)}};
    // Per mirror, labelled by its base URL (since btfd started): across a
    // fleet, which mirror answers, lacks kernels, fails or is skipped.
    struct PerMirror {
      const char* metric;
      const char* field;
      const char* type;
      const char* help;
    };
    static const PerMirror per_mirror[] = {
        {"btfd_mirror_requests_total", "requests", "counter", "Requests sent to the mirror."},
        {"btfd_mirror_not_found_total", "not_found", "counter", "Kernels the mirror does not have."},
        {"btfd_mirror_errors_total", "errors", "counter", "Requests that failed (not counting not found)."},
        {"btfd_mirror_timeouts_total", "timeouts", "counter", "Requests that timed out or stalled."},
        {"btfd_mirror_skipped_total", "skipped", "counter", "Requests not sent while the mirror's circuit was open."},
        {"btfd_mirror_bytes_total", "bytes", "counter", "Bytes downloaded from the mirror."},
        {"btfd_mirror_healthy", "healthy", "gauge", "1 when the mirror is asked, 0 while it is skipped or broken."}};
    for (const auto& pm : per_mirror) metrics[pm.metric] = {{"type", pm.type}, {"help", pm.help}, {"value", json::object()}};
    for (const auto& m : out["stats"]["mirrors"]) {
      for (const auto& pm : per_mirror) {
        const json& v = m.contains(pm.field) ? m[pm.field] : json(0);
        metrics[pm.metric]["value"][m.value("base", "")] = v.is_boolean() ? json(v.get<bool>() ? 1 : 0) : v;
      }
    }
    out["text"] = stats_.to_prometheus(metrics);
  }
  answer(call, std::move(out));
}

void Server::m_refresh(Connection& c, Call& call, const json&, proto::Message&) {
  run_on_worker(c, call, [this](Call&) { return service_.refresh(); }, Lane::hub);
}

void Server::m_gc(Connection& c, Call& call, const json&, proto::Message&) {
  run_on_worker(c, call, [this](Call&) { return service_.gc(); });
}

void Server::m_verify(Connection& c, Call& call, const json&, proto::Message&) {
  run_on_worker(c, call, [this](Call&) { return service_.verify(); });
}

}  // namespace btfd::server
