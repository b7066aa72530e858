// SPDX-License-Identifier: GPL-2.0-or-later
#include "server/server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>

#include "btfd-config.h"
#include "hub/fetch_helper.hpp"
#include "server/interface.hpp"
#include "util/log.hpp"

namespace btfd::server {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
namespace errors = proto::errors;

namespace {
constexpr size_t kMaxOutBytes = 8 << 20;  // a client that does not read is cut off

const char* error_name(Errc code) {
  switch (code) {
    case Errc::not_in_hub: return errors::kKernelNotInHub;
    case Errc::unreachable:
    case Errc::timeout:
    case Errc::corrupt:
    case Errc::unsupported: return errors::kHubUnreachable;
    case Errc::invalid_argument:
    case Errc::ambiguous: return errors::kInvalidObject;
    case Errc::too_large: return errors::kTooLarge;
    case Errc::permission:
    case Errc::no_space:
    case Errc::io:
    case Errc::not_found: return errors::kStoreError;
    case Errc::busy: return errors::kBusy;
    default: return errors::kInternal;
  }
}
}  // namespace

struct Server::Connection {
  struct Out {
    std::string bytes;
    std::vector<UniqueFd> fds;
    size_t sent = 0;
  };
  uint64_t id = 0;
  UniqueFd fd;
  sd_event_source* src = nullptr;
  proto::FrameReader reader{proto::kMaxMessageBytes};
  struct ucred cred {};
  std::deque<Out> out;
  size_t out_bytes = 0;
  unsigned inflight = 0;
  Clock::time_point last = Clock::now();
  bool want_out = false;
  ~Connection() {
    if (src) sd_event_source_disable_unref(src);
  }
};

Server::Server(Config cfg, Service& service, Stats& stats) : cfg_(std::move(cfg)), service_(service), stats_(stats) {
  sd_event_default(&event_);
}

Server::~Server() {
  // Jobs still running post their results through pool_: join them while it
  // is whole (their callbacks are never run: the loop has ended).
  if (pool_) pool_->stop();
  for (auto& [src, _] : retries_) sd_event_source_disable_unref(src);
  retries_.clear();
  watcher_.reset();
  conns_.clear();
  if (listen_src_) sd_event_source_disable_unref(listen_src_);
  pool_.reset();
  if (own_socket_ && !cfg_.socket_path.empty()) ::unlink(cfg_.socket_path.c_str());
  sd_event_unref(event_);
}

Status Server::setup_listener() {
  int n = sd_listen_fds(1);
  if (n > 1) return make_error(Errc::invalid_argument, "expected one socket from systemd, got " + std::to_string(n));
  if (n == 1) {
    if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, nullptr, 0) <= 0)
      return make_error(Errc::invalid_argument, "the socket passed by systemd is not a listening AF_UNIX stream socket");
    listen_fd_.reset(SD_LISTEN_FDS_START);
    ::fcntl(listen_fd_.get(), F_SETFD, FD_CLOEXEC);
  } else {
    std::string path = cfg_.socket_path.empty() ? BTFD_DEFAULT_SOCKET : cfg_.socket_path;
    cfg_.socket_path = path;
    struct sockaddr_un sa {};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path) return make_error(Errc::invalid_argument, "socket path too long: \"" + path + "\"");
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    listen_fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!listen_fd_) return sys_error(errno, "socket");
    ::unlink(path.c_str());  // a stale socket from a killed daemon
    if (::bind(listen_fd_.get(), reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) < 0)
      return sys_error(errno, "cannot bind \"" + path + "\"");
    // Anyone who can reach the socket may get BTF; privileged methods check peers.
    ::chmod(path.c_str(), 0666);
    if (::listen(listen_fd_.get(), 128) < 0) return sys_error(errno, "listen");
    own_socket_ = true;
  }
  int flags = ::fcntl(listen_fd_.get(), F_GETFL);
  ::fcntl(listen_fd_.get(), F_SETFL, flags | O_NONBLOCK);
  if (sd_event_add_io(event_, &listen_src_, listen_fd_.get(), EPOLLIN, on_accept, this) < 0)
    return make_error(Errc::internal, "cannot watch the listening socket");
  return {};
}

Result<int> Server::run() {
  if (!event_) return make_error(Errc::internal, "cannot create the event loop");
  BTFD_TRY_VOID(setup_listener());
  // Block the signals before any thread exists, so that only the loop's
  // signalfd ever sees them.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  pool_ = std::make_unique<WorkerPool>(cfg_.workers);
  // Sources added without a handle are owned ("floating") by the loop.
  sd_event_add_io(event_, nullptr, pool_->wake_fd(), EPOLLIN, on_wake, this);
  ::signal(SIGPIPE, SIG_IGN);
  sd_event_add_signal(event_, nullptr, SIGTERM, on_signal, this);
  sd_event_add_signal(event_, nullptr, SIGINT, on_signal, this);
  uint64_t now = 0;
  sd_event_now(event_, CLOCK_MONOTONIC, &now);
  sd_event_add_time(event_, nullptr, CLOCK_MONOTONIC, now + 1000000, 100000, on_tick, this);
  sd_event_set_watchdog(event_, 1);  // pings systemd when WATCHDOG_USEC is set
  upgrade::WatchOptions wopts;
  wopts.host_root = cfg_.host_root;
  wopts.module_dirs = cfg_.module_dirs;
  wopts.boot_dir = cfg_.boot_dir;
  auto watcher = upgrade::Watcher::start(event_, wopts, [this](const upgrade::NewKernel& k) {
    if (!k.native_btf_path.empty()) {
      ++stats_.upgrades_seen;
      log_info("new kernel %s carries its own BTF (%s): nothing to fetch", k.release.c_str(), k.native_btf_path.c_str());
      return;
    }
    log_info("new kernel %s installed: prefetching its BTF", k.release.c_str());
    on_new_kernel(k.release);
  });
  if (watcher) watcher_ = std::move(watcher).value();
  else log_warning("kernel upgrades will not be noticed: %s", watcher.error().message.c_str());
  pool_->submit([this] {
    auto released = service_.release_pins(cfg_.module_dirs);
    if (!released) log_warning("cannot review pinned kernels: %s", released.error().message.c_str());
    else if (*released) log_info("unpinned %d kernel(s) that were booted past or removed", *released);
  });
  // A kernel without built-in BTF: have its BTF before the first agent asks.
  if (service_.host().native_btf_path.empty()) on_new_kernel(service_.host().identity.release);
  sd_notifyf(0, "READY=1\nSTATUS=Serving BTF on %s", cfg_.socket_path.empty() ? "the socket from systemd" : cfg_.socket_path.c_str());
  log_info("ready on %s (cache \"%s\")", cfg_.socket_path.empty() ? "socket from systemd" : cfg_.socket_path.c_str(),
           cfg_.cache_dir.c_str());
  int r = sd_event_loop(event_);
  sd_notify(0, "STOPPING=1");
  return r < 0 ? 1 : 0;
}

int Server::on_accept(sd_event_source*, int fd, uint32_t, void* self_) {
  auto* self = static_cast<Server*>(self_);
  for (;;) {
    int cfd = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (cfd < 0) break;
    self->last_activity_ = Clock::now();
    if (self->conns_.size() >= self->cfg_.max_connections || self->stopping_) {
      std::string e = proto::encode(proto::error_reply(errors::kBusy, {{"message", "too many connections"}}));
      (void)!::send(cfd, e.data(), e.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(cfd);
      continue;
    }
    auto c = std::make_unique<Connection>();
    c->id = self->next_id_++;
    c->fd.reset(cfd);
    socklen_t len = sizeof c->cred;
    if (::getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0) c->cred.uid = static_cast<uid_t>(-1);
    if (sd_event_add_io(self->event_, &c->src, cfd, EPOLLIN, on_conn_io, reinterpret_cast<void*>(c->id)) < 0) continue;
    sd_event_source_set_userdata(c->src, self);
    // The connection id travels in the description so the callback finds it.
    sd_event_source_set_description(c->src, std::to_string(c->id).c_str());
    self->conns_.emplace(c->id, std::move(c));
  }
  return 0;
}

int Server::on_conn_io(sd_event_source* src, int, uint32_t revents, void* self_) {
  auto* self = static_cast<Server*>(self_);
  const char* desc = nullptr;
  sd_event_source_get_description(src, &desc);
  uint64_t id = desc ? std::stoull(desc) : 0;
  auto it = self->conns_.find(id);
  if (it == self->conns_.end()) return 0;
  Connection& c = *it->second;
  if (revents & EPOLLOUT) self->flush(c);
  if (self->conns_.count(id) && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))) self->handle_readable(c);
  return 0;
}

void Server::handle_readable(Connection& c) {
  uint64_t id = c.id;
  std::vector<uint8_t> buf(16 * 1024);
  for (int rounds = 0; rounds < 8; ++rounds) {
    std::vector<UniqueFd> fds;
    ssize_t n = proto::recv_with_fds(c.fd.get(), buf, &fds);
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) {  // EOF or error: the client is gone; in-flight results are dropped
      close_connection(id);
      return;
    }
    c.last = last_activity_ = Clock::now();
    if (auto st = c.reader.feed(std::span(buf.data(), static_cast<size_t>(n)), std::move(fds)); !st) {
      send(id, proto::error_reply(errors::kTooLarge, {{"message", st.error().message}}));
      close_connection(id);
      return;
    }
    for (;;) {
      auto msg = c.reader.next();
      if (!msg) {
        log_debug("connection %llu: %s", static_cast<unsigned long long>(id), msg.error().message.c_str());
        send(id, proto::error_reply(errors::kInvalidParameter, {{"parameter", "message"}, {"message", msg.error().message}}));
        close_connection(id);
        return;
      }
      if (!*msg) break;
      handle_message(c, std::move(**msg));
      if (!conns_.count(id)) return;
    }
  }
}

bool Server::privileged(const Connection& c) const {
  return c.cred.uid == 0 || c.cred.uid == ::geteuid() ||
         (cfg_.allow_gid != static_cast<gid_t>(-1) && c.cred.gid == cfg_.allow_gid);
}

void Server::handle_message(Connection& c, proto::Message msg) {
  uint64_t id = c.id;
  auto started = Clock::now();
  const json& j = msg.json;
  auto finish = [this, started](const std::string& method, const std::string& outcome) {
    stats_.request(method, outcome, std::chrono::duration<double>(Clock::now() - started).count());
  };
  if (!j.contains("method") || !j["method"].is_string()) {
    send(id, proto::error_reply(errors::kInvalidParameter, {{"parameter", "method"}}));
    return;
  }
  std::string method = j["method"].get<std::string>();
  json params = j.contains("parameters") ? j["parameters"] : json::object();
  if (params.is_null()) params = json::object();
  if (!params.is_object()) {
    send(id, proto::error_reply(errors::kInvalidParameter, {{"parameter", "parameters"}}));
    finish(method, "invalid");
    return;
  }
  bool more = j.value("more", false);
  auto reply_error = [&](const char* name, const std::string& message, const char* outcome) {
    send(id, proto::error_reply(name, {{"message", message}}));
    finish(method, outcome);
  };

  if (method == "org.varlink.service.GetInfo") {
    send(id, proto::reply({{"vendor", "btfd"}, {"product", "btfd"}, {"version", BTFD_VERSION},
                           {"url", "https://github.com/btfd/btfd"},
                           {"interfaces", json::array({"org.varlink.service", proto::kInterface})}}));
    return finish(method, "ok");
  }
  if (method == "org.varlink.service.GetInterfaceDescription") {
    std::string iface = params.value("interface", "");
    if (iface != proto::kInterface) return reply_error(errors::kInterfaceNotFound, "unknown interface \"" + iface + "\"", "error");
    send(id, proto::reply({{"description", std::string(kInterfaceDescription)}}));
    return finish(method, "ok");
  }
  if (method.rfind("io.btfd.", 0) != 0) {
    return reply_error(method.find('.') == std::string::npos ? errors::kInterfaceNotFound : errors::kMethodNotFound,
                       "unknown method \"" + method + "\"", "error");
  }
  if (method == "io.btfd.Status") {
    send(id, proto::reply({{"status", service_.status()}}));
    return finish(method, "ok");
  }
  if (method == "io.btfd.Stats") {
    json out = {{"stats", stats_.to_json()}};
    out["stats"]["mirrors"] = service_.mirror_stats();
    if (params.value("prometheus", false)) {
      json gauges = {{"btfd_hot_kernels_bytes", service_.hot_bytes()}, {"btfd_connections", conns_.size()}};
      out["text"] = stats_.to_prometheus(gauges);
    }
    send(id, proto::reply(out));
    return finish(method, "ok");
  }
  if (method == "io.btfd.ListKernels") {
    auto l = service_.list();
    if (!l) return reply_error(error_name(l.error().code), l.error().message, "error");
    send(id, proto::reply(*l));
    return finish(method, "ok");
  }
  bool is_get = method == "io.btfd.GetBtf", is_prefetch = method == "io.btfd.Prefetch",
       is_gc = method == "io.btfd.GarbageCollect", is_refresh = method == "io.btfd.Refresh";
  if (!is_get && !is_prefetch && !is_gc && !is_refresh)
    return reply_error(errors::kMethodNotFound, "unknown method \"" + method + "\"", "error");
  if ((is_prefetch || is_gc || is_refresh) && !privileged(c))
    return reply_error(errors::kPermissionDenied, method + " needs root or the configured group", "denied");
  if (c.inflight >= cfg_.max_inflight_per_connection)
    return reply_error(errors::kBusy, "too many requests in flight on this connection", "busy");

  KernelIdentity kid = service_.host().identity;
  if (is_get || is_prefetch) {
    auto k = identity_from_json(params.contains("kernel") ? params["kernel"] : json(), service_.host().identity);
    if (!k) return reply_error(errors::kInvalidKernel, k.error().message, "invalid");
    kid = *k;
  }
  std::vector<UniqueFd> objects;
  if (is_get && params.contains("objects") && !params["objects"].is_null()) {
    const json& o = params["objects"];
    if (!o.is_array()) return reply_error(errors::kInvalidParameter, "objects must be an array of fd indexes", "invalid");
    if (o.size() > cfg_.max_objects)
      return reply_error(errors::kTooLarge, "at most " + std::to_string(cfg_.max_objects) + " objects per request", "invalid");
    for (const auto& idx : o) {
      if (!idx.is_number_unsigned() || idx.get<size_t>() >= msg.fds.size() || !msg.fds[idx.get<size_t>()])
        return reply_error(errors::kInvalidParameter, "objects names an fd that was not passed", "invalid");
      objects.push_back(std::move(msg.fds[idx.get<size_t>()]));
    }
  }
  if (is_get && objects.empty()) {
    // Fast path: a verified cache hit is answered right here, without a thread hop.
    if (auto a = service_.try_cached(kid)) {
      json result = {{"fd", 0}, {"path", a->blob.path}, {"sha256", to_hex(a->blob.digest)}, {"size", a->blob.size},
                     {"source", a->source}, {"cached", true}, {"exact", true}, {"minimized", false},
                     {"kernel", identity_json(a->kernel)}};
      std::vector<UniqueFd> fds;
      fds.push_back(std::move(a->blob.fd));
      send(id, proto::reply(result), std::move(fds));
      return finish(method, "ok");
    }
  }
  ++c.inflight;
  ++inflight_;
  bool pin = params.value("pin", true);
  pool_->submit([this, id, method, kid, pin, more, started, is_get, is_prefetch, is_refresh,
                 objs = std::make_shared<std::vector<UniqueFd>>(std::move(objects))]() mutable {
    json result;
    std::optional<Error> error;
    std::vector<UniqueFd> fds;
    auto last_progress = std::make_shared<Clock::time_point>();
    hub::ProgressFn progress;
    if (is_prefetch && more) {
      progress = [this, id, last_progress](const hub::Progress& p) {
        auto now = Clock::now();
        if (now - *last_progress < std::chrono::milliseconds(200)) return;
        *last_progress = now;
        pool_->post([this, id, p] {
          send(id, proto::reply({{"state", "progress"}, {"downloaded", p.downloaded}, {"total", p.total}}, true));
        });
      };
    }
    if (is_get) {
      auto a = service_.get_btf(kid, std::move(*objs), progress);
      if (a) {
        result = {{"fd", 0}, {"path", a->blob.path}, {"sha256", to_hex(a->blob.digest)}, {"size", a->blob.size},
                  {"source", a->source}, {"cached", a->cached}, {"exact", true}, {"minimized", a->minimized},
                  {"kernel", identity_json(a->kernel)}};
        if (a->minimized) result["relocations"] = a->relocations;
        fds.push_back(std::move(a->blob.fd));
      } else {
        error = a.error();
      }
    } else if (is_prefetch) {
      auto r = service_.prefetch(kid, pin, progress);
      if (r) result = {{"state", "done"}, {"result", *r}};
      else error = r.error();
    } else if (is_refresh) {
      auto r = service_.refresh();
      if (r) result = *r;
      else error = r.error();
    } else {
      auto r = service_.gc();
      if (r) result = *r;
      else error = r.error();
    }
    pool_->post([this, id, method, started, result = std::move(result), error = std::move(error),
                 fds = std::make_shared<std::vector<UniqueFd>>(std::move(fds))]() mutable {
      --inflight_;
      auto it = conns_.find(id);
      if (it != conns_.end()) --it->second->inflight;
      std::string outcome = "ok";
      if (error) {
        outcome = error->code == Errc::not_in_hub ? "not_in_hub" : "error";
        if (it != conns_.end()) send(id, proto::error_reply(error_name(error->code), {{"message", error->message}}));
      } else if (it != conns_.end()) {
        send(id, proto::reply(result), std::move(*fds));
      }
      stats_.request(method, outcome, std::chrono::duration<double>(Clock::now() - started).count());
      maybe_exit();
    });
  });
}

void Server::send(uint64_t conn_id, const json& j, std::vector<UniqueFd> fds) {
  auto it = conns_.find(conn_id);
  if (it == conns_.end()) return;
  Connection& c = *it->second;
  Connection::Out o;
  o.bytes = proto::encode(j);
  o.fds = std::move(fds);
  c.out_bytes += o.bytes.size();
  c.out.push_back(std::move(o));
  if (c.out_bytes > kMaxOutBytes) {
    close_connection(conn_id);
    return;
  }
  flush(c);
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
    c.out_bytes -= o.sent - before;
    if (!st) {
      if (st.error().code == Errc::busy) break;
      close_connection(id);
      return;
    }
    c.out.pop_front();
  }
  c.last = Clock::now();
  update_events(c);
}

void Server::update_events(Connection& c) {
  bool want = !c.out.empty();
  if (want != c.want_out) {
    sd_event_source_set_io_events(c.src, want ? (EPOLLIN | EPOLLOUT) : static_cast<uint32_t>(EPOLLIN));
    c.want_out = want;
  }
}

void Server::close_connection(uint64_t id) { conns_.erase(id); }

int Server::on_wake(sd_event_source*, int, uint32_t, void* self_) {
  static_cast<Server*>(self_)->pool_->run_posted();
  return 0;
}

void Server::maybe_exit() {
  if (stopping_ && inflight_ == 0) sd_event_exit(event_, 0);
}

int Server::on_tick(sd_event_source* s, uint64_t usec, void* self_) {
  auto* self = static_cast<Server*>(self_);
  auto now = Clock::now();
  std::vector<uint64_t> idle;
  for (auto& [id, c] : self->conns_)
    if (c->inflight == 0 && c->out.empty() && now - c->last > std::chrono::seconds(self->cfg_.connection_idle_sec))
      idle.push_back(id);
  for (uint64_t id : idle) self->close_connection(id);
  self->service_.trim_hot(false);
  self->pool_->submit([self] { self->service_.flush_touches(); });
  if (self->stopping_ && now > self->stop_deadline_) {
    log_warning("stopping with %zu request(s) still in flight; cancelling downloads", self->inflight_);
    // Workers waiting on a download return once its helper is gone, so the
    // pool can be joined within the bound.
    hub::cancel_running_helpers();
    sd_event_exit(self->event_, 0);
  }
  if (!self->stopping_ && self->cfg_.idle_exit_sec && self->conns_.empty() && self->inflight_ == 0 &&
      self->retries_.empty() &&
      now - self->last_activity_ > std::chrono::seconds(self->cfg_.idle_exit_sec)) {
    log_info("idle for %llu s, exiting", static_cast<unsigned long long>(self->cfg_.idle_exit_sec));
    sd_event_exit(self->event_, 0);
  }
  sd_event_source_set_time(s, usec + 1000000);
  sd_event_source_set_enabled(s, SD_EVENT_ON);
  return 0;
}

void Server::begin_shutdown() {
  if (stopping_) return;
  stopping_ = true;
  sd_notify(0, "STOPPING=1\nSTATUS=Finishing in-flight requests");
  if (listen_src_) sd_event_source_set_enabled(listen_src_, SD_EVENT_OFF);
  stop_deadline_ = Clock::now() + std::chrono::seconds(10);
  maybe_exit();
}

int Server::on_signal(sd_event_source*, const struct signalfd_siginfo*, void* self_) {
  static_cast<Server*>(self_)->begin_shutdown();
  return 0;
}

void Server::on_new_kernel(const std::string& release, int attempt) {
  constexpr int kMaxAttempts = 5;
  KernelIdentity id = service_.host().identity;
  id.release = release;
  if (!validate_identity(id)) return;
  if (attempt == 0) ++stats_.upgrades_seen;
  ++inflight_;
  pool_->submit([this, id, attempt] {
    auto r = service_.prefetch(id, true);
    bool retry = false;
    if (r) {
      log_info("prefetched BTF for new kernel %s", id.to_string().c_str());
    } else {
      // "Not in the hub" and bad identities will not change by waiting.
      retry = r.error().code != Errc::not_in_hub && r.error().code != Errc::invalid_argument &&
              attempt + 1 < kMaxAttempts;
      log_warning("prefetch of %s failed%s: %s", id.to_string().c_str(), retry ? " (will retry)" : "",
                  r.error().message.c_str());
    }
    pool_->post([this, release = id.release, attempt, retry] {
      --inflight_;
      if (retry && !stopping_) schedule_prefetch_retry(release, attempt + 1);
      maybe_exit();
    });
  });
}

void Server::schedule_prefetch_retry(const std::string& release, int attempt) {
  uint64_t now = 0;
  sd_event_now(event_, CLOCK_MONOTONIC, &now);
  // Capped so that a silly RetrySec= cannot overflow the timer arithmetic.
  uint64_t delay = std::min<uint64_t>(cfg_.prefetch_retry_sec, 86400) * 1000000ull << (attempt - 1);
  sd_event_source* src = nullptr;
  int r = sd_event_add_time(event_, &src, CLOCK_MONOTONIC, now + delay, 100000, on_retry, this);
  if (r < 0) {
    log_warning("cannot schedule a retry for kernel %s: %s", release.c_str(), std::strerror(-r));
    return;
  }
  retries_[src] = {release, attempt};
}

int Server::on_retry(sd_event_source* s, uint64_t, void* self_) {
  auto* self = static_cast<Server*>(self_);
  auto it = self->retries_.find(s);
  if (it == self->retries_.end()) return 0;
  Retry retry = std::move(it->second);
  self->retries_.erase(it);
  sd_event_source_disable_unref(s);
  if (!self->stopping_) self->on_new_kernel(retry.release, retry.attempt);
  return 0;
}

}  // namespace btfd::server
