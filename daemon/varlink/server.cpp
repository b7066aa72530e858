// SPDX-License-Identifier: GPL-2.0-or-later
#include "varlink/server.hpp"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "btfd-config.h"
#include "debuginfo/pahole.hpp"
#include "hub/fetch_helper.hpp"
#include "varlink/connection.hpp"
#include "util/guard.hpp"
#include "util/log.hpp"

namespace btfd::server {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
namespace errors = proto::errors;

namespace {
// How long SIGTERM waits for cancelled calls to end before the loop exits.
constexpr std::chrono::milliseconds kStopGrace{800};
}  // namespace

Server::Connection::~Connection() {
  if (src) sd_event_source_disable_unref(src);
}

Server::Server(Config cfg, Service& service, Stats& stats, std::span<const MethodHandler> methods)
    : cfg_(std::move(cfg)),
      service_(service),
      stats_(stats),

      // Connections through the admin socket or from root have a quota of their
      // own (admin_conn_quota_), so conn_quota_ needs no reserve; the others
      // keep an eighth of each total for root and the admin socket.
      conn_quota_({"connections", "MaxConnectionsPerUser", "MaxConnections"}, cfg_.max_connections_per_user,
                  cfg_.max_connections, 0),
      admin_conn_quota_({"connections for administrators", "MaxConnectionsPerUser", nullptr},
                        cfg_.max_connections_per_user, kAdminConnections, 0),
      fd_quota_({"descriptors", "MaxDescriptorsPerUser", "MaxDescriptors"}, cfg_.max_fds_per_user, cfg_.max_fds,
                cfg_.max_fds / 8),
      object_quota_({"object bytes", "MaxObjectBytesPerUser", "MaxObjectBytes"}, cfg_.max_object_bytes_per_user,
                    cfg_.max_object_bytes, cfg_.max_object_bytes / 8),
      call_quota_({"calls", "MaxCallsPerUser", "MaxCalls"}, cfg_.max_calls_per_user, cfg_.max_calls,
                  cfg_.max_calls / 8),
      hub_lookups_(std::make_shared<RateLimiter>(cfg_.hub_lookups_per_minute)) {
  sd_event_default(&event_);
  reader_link_->server = this;
  // A handler for a method the interface table lacks is never called (a
  // unit test holds the handlers and the table to each other).
  for (const auto& h : methods)
    if (auto ref = proto::idl::find_method(h.name)) handlers_.emplace_back(ref->method, &h);
}

Server::~Server() {
  {
    std::lock_guard lock(reader_link_->mu);
    reader_link_->server = nullptr;
  }
  // Jobs still running post their results through pool_: join them while it
  // is whole. The hub and control lanes first: their jobs post through pool_
  // too. Queued jobs are dropped here, on the loop's thread, so what their
  // calls held is given back at once; what running jobs posted (results,
  // handles given back on a worker) runs once more below, while the
  // connections and quotas it touches still exist.
  if (hub_pool_) hub_pool_->stop();
  if (control_pool_) control_pool_->stop();
  if (pool_) {
    pool_->stop();
    run_guarded("the last posted callbacks", [this] { pool_->run_posted(); });
  }
  for (auto& [src, _] : retries_) sd_event_source_disable_unref(src);
  retries_.clear();
  watcher_.reset();
  pending_objects_.clear();
  conns_.clear();
  for (auto& l : listeners_)
    if (l->src) sd_event_source_disable_unref(l->src);
  listeners_.clear();
  hub_pool_.reset();
  control_pool_.reset();
  pool_.reset();
  // Only the socket file this btfd bound: a later btfd may have replaced it.
  for (const auto& p : own_sockets_) {
    struct stat now {};
    if (::stat(p.path.c_str(), &now) == 0 && now.st_dev == p.dev && now.st_ino == p.ino) ::unlink(p.path.c_str());
  }
  sd_event_unref(event_);
}

Status Server::bind_socket(const std::string& path, mode_t mode, gid_t group, UniqueFd* out) {
  struct sockaddr_un sa {};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) return make_error(Errc::invalid_argument, "socket path too long: \"" + path + "\"");
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return sys_error(errno, "socket");
  // A socket that answers belongs to a btfd still serving: taking it over
  // would leave that one alive and unreachable. Only a dead one (a killed
  // daemon's) is replaced.
  {
    // Non-blocking: a busy btfd's full backlog says EAGAIN, and is in use too.
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (probe && (::connect(probe.get(), reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) == 0 || errno == EAGAIN)) {
      struct ucred peer {};
      socklen_t len = sizeof peer;
      std::string who = ::getsockopt(probe.get(), SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0 && peer.pid > 0
                            ? " (pid " + std::to_string(peer.pid) + ")"
                            : "";
      return make_error(Errc::busy, "\"" + path + "\" is in use by another btfd" + who);
    }
  }
  ::unlink(path.c_str());  // a stale socket from a killed daemon
  if (::bind(fd.get(), reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) < 0)
    return sys_error(errno, "cannot bind \"" + path + "\"");
  struct stat bound {};
  if (::stat(path.c_str(), &bound) == 0) own_sockets_.push_back({path, bound.st_dev, bound.st_ino});
  if (group != static_cast<gid_t>(-1) && ::chown(path.c_str(), static_cast<uid_t>(-1), group) < 0)
    return sys_error(errno, "cannot give \"" + path + "\" to group " + std::to_string(group));
  if (::chmod(path.c_str(), mode) < 0) return sys_error(errno, "cannot chmod \"" + path + "\"");
  if (::listen(fd.get(), 128) < 0) return sys_error(errno, "listen");
  *out = std::move(fd);
  return {};
}

Status Server::add_listener(UniqueFd fd, bool admin) {
  int flags = ::fcntl(fd.get(), F_GETFL);
  ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK);
  ::fcntl(fd.get(), F_SETFD, FD_CLOEXEC);
  auto l = std::make_unique<Listener>();
  l->fd = std::move(fd);
  l->admin = admin;
  l->server = this;
  if (sd_event_add_io(event_, &l->src, l->fd.get(), EPOLLIN, on_accept, l.get()) < 0)
    return make_error(Errc::internal, "cannot watch a listening socket");
  listeners_.push_back(std::move(l));
  return {};
}

Status Server::setup_listeners() {
  char** names = nullptr;
  int n = sd_listen_fds_with_names(1, &names);
  if (n > 0) {
    // btfd.socket passes the public socket and, named "admin", the socket
    // only root and the btfd-admin group can connect to (file mode 0660).
    Status st;
    for (int i = 0; i < n; ++i) {
      int fd = SD_LISTEN_FDS_START + i;
      bool admin = names && names[i] && std::strcmp(names[i], "admin") == 0;
      if (st && sd_is_socket_unix(fd, SOCK_STREAM, 1, nullptr, 0) <= 0)
        st = make_error(Errc::invalid_argument, "a socket passed by systemd is not a listening AF_UNIX stream socket");
      if (st) st = add_listener(UniqueFd(fd), admin);
      else ::close(fd);
    }
    if (names)
      for (int i = 0; i < n; ++i) std::free(names[i]);
    std::free(names);
    return st;
  }
  std::string path = cfg_.socket_path.empty() ? BTFD_DEFAULT_SOCKET : cfg_.socket_path;
  cfg_.socket_path = path;
  // Nobody would start this btfd again on the next call.
  if (!cfg_.idle_exit_set) cfg_.idle_exit_sec = 0;
  UniqueFd fd;
  // Anyone who can reach the socket may get BTF; privileged methods check peers.
  BTFD_TRY_VOID(bind_socket(path, 0666, static_cast<gid_t>(-1), &fd));
  BTFD_TRY_VOID(add_listener(std::move(fd), false));
  if (!cfg_.admin_socket.empty()) {
    UniqueFd admin;
    BTFD_TRY_VOID(bind_socket(cfg_.admin_socket, 0660, cfg_.allow_gid, &admin));
    BTFD_TRY_VOID(add_listener(std::move(admin), true));
  }
  return {};
}

Status Server::start_detached() {
  if (!event_) return make_error(Errc::internal, "cannot create the event loop");
  if (!pool_) {
    pool_ = std::make_unique<WorkerPool>(cfg_.workers);
    hub_pool_ = std::make_unique<WorkerPool>(cfg_.downloads);
    control_pool_ = std::make_unique<WorkerPool>(1);
    loop_thread_ = std::this_thread::get_id();
    find_memory_limit();
    if (memory_limit_)
      log_info("new heavy work is refused above 85%% of %llu MiB (%s)",
               static_cast<unsigned long long>(memory_limit_ >> 20),
               cfg_.memory_limit ? "[Limits] MemoryLimit=" : "the cgroup's memory limit");
    sd_event_add_io(event_, nullptr, pool_->wake_fd(), EPOLLIN, on_wake, this);
  }
  return {};
}

Result<int> Server::run() {
  if (!event_) return make_error(Errc::internal, "cannot create the event loop");
  // Block the signals before any thread exists, so that only the loop's
  // signalfd ever sees them.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  BTFD_TRY_VOID(start_detached());
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
  pool_->submit(WorkerPool::kOwnJobs, [this] {
    auto released = service_.release_pins(cfg_.module_dirs);
    if (!released) log_warning("cannot review pinned kernels: %s", released.error().message.c_str());
    else if (*released) log_info("unpinned %d kernel(s) that were booted past or removed", *released);
  });
  // Listen last: once the socket exists the upgrade watcher is in place, so a
  // kernel installed right after btfd came up is not missed.
  BTFD_TRY_VOID(setup_listeners());
  // A kernel without built-in BTF: have its BTF before the first agent asks.
  if (service_.host().native_btf_path.empty()) on_new_kernel(service_.host().identity.release);
  sd_notifyf(0, "READY=1\nSTATUS=Serving BTF on %s", cfg_.socket_path.empty() ? "the socket from systemd" : cfg_.socket_path.c_str());
  log_info("ready on %s (cache \"%s\")", cfg_.socket_path.empty() ? "socket from systemd" : cfg_.socket_path.c_str(),
           cfg_.cache_dir.c_str());
  int r = sd_event_loop(event_);
  sd_notify(0, "STOPPING=1");
  return r < 0 ? 1 : 0;
}

// accept4() failing with EMFILE/ENFILE leaves the connection queued, and a
// level-triggered listener would spin on it: stop listening until an fd is
// freed (a connection closes) or a second has passed, as systemd does.
void Server::pause_accepting() {
  if (accept_paused_) return;
  accept_paused_ = true;
  for (auto& l : listeners_) sd_event_source_set_enabled(l->src, SD_EVENT_OFF);
  // The tick retries every second; say so once a minute, not every second.
  static Clock::time_point last_said{};
  if (Clock::now() - last_said > std::chrono::seconds(60)) {
    last_said = Clock::now();
    log_warning("out of file descriptors: not accepting connections for now (%zu open)", conns_.size());
  }
}

void Server::resume_accepting() {
  if (!accept_paused_ || stopping_) return;
  accept_paused_ = false;
  for (auto& l : listeners_) sd_event_source_set_enabled(l->src, SD_EVENT_ON);
}

int Server::on_accept(sd_event_source*, int, uint32_t, void* listener) {
  auto* l = static_cast<Listener*>(listener);
  return guarded("accepting a connection", [l] { l->server->accept_from(*l); });
}

void Server::accept_from(Listener& l) {
  // Bounded per wakeup, so a connection storm cannot keep the loop here.
  for (int i = 0; i < 64; ++i) {
    int cfd = ::accept4(l.fd.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (cfd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) pause_accepting();
      return;
    }
    last_activity_ = Clock::now();
    serve(UniqueFd(cfd), l.admin);
  }
}

Status Server::adopt_connection(int fd) {
  BTFD_TRY_VOID(start_detached());
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  serve(UniqueFd(fd), false);
  return {};
}

int Server::on_wake(sd_event_source*, int, uint32_t, void* self_) {
  return guarded("running posted results", [self_] { static_cast<Server*>(self_)->pool_->run_posted(); });
}

void Server::maybe_exit() {
  if (stopping_ && inflight_ == 0) sd_event_exit(event_, 0);
}

int Server::on_tick(sd_event_source* s, uint64_t usec, void* self_) {
  auto* self = static_cast<Server*>(self_);
  guarded("the periodic tick", [self] { self->tick(); });
  sd_event_source_set_time(s, usec + 1000000);
  sd_event_source_set_enabled(s, SD_EVENT_ON);
  return 0;
}

void Server::tick() {
  auto now = Clock::now();
  std::vector<std::pair<uint64_t, const char*>> drop;
  for (auto& [id, c] : conns_) {
    if (c->inflight == 0 && c->out.empty() && c->reader.buffered() == 0 &&
        now - c->last > std::chrono::seconds(cfg_.connection_idle_sec))
      drop.emplace_back(id, "idle");
    else if (!c->out.empty() && now - c->last_write > std::chrono::seconds(cfg_.send_timeout_sec))
      drop.emplace_back(id, "does not read its replies");
    else if (c->reader.buffered() > 0 && now - c->message_started > std::chrono::seconds(cfg_.message_timeout_sec))
      drop.emplace_back(id, "sends a message too slowly");
  }
  for (auto [id, why] : drop) {
    auto it = conns_.find(id);
    if (it == conns_.end()) continue;
    if (std::strcmp(why, "idle") != 0) {
      ++stats_.dropped_clients;
      log_notice("dropping a client (pid %d, uid %u) that %s", it->second->cred.pid, it->second->cred.uid, why);
    }
    close_connection(id);
  }
  resume_accepting();
  service_.trim_hot(false);
  pool_->submit(WorkerPool::kOwnJobs, [this] { service_.flush_touches(); });
  if (!stopping_ && cfg_.idle_exit_sec && conns_.empty() && inflight_ == 0 && retries_.empty() &&
      now - last_activity_ > std::chrono::seconds(cfg_.idle_exit_sec)) {
    log_info("idle for %llu s, exiting", static_cast<unsigned long long>(cfg_.idle_exit_sec));
    sd_event_exit(event_, 0);
  }
}

// SIGTERM ends btfd within about a second: every call is cancelled (queued
// ones end without running, a minimization stops at its next checkpoint, the
// fetch helpers are killed) and answered Busy; whatever still runs after
// kStopGrace is left to the pool's join (bounded by those checkpoints).
void Server::begin_shutdown() {
  if (stopping_) return;
  stopping_ = true;
  sd_notify(0, "STOPPING=1\nSTATUS=Cancelling in-flight requests");
  for (auto& l : listeners_) sd_event_source_set_enabled(l->src, SD_EVENT_OFF);
  uint64_t now = 0;
  sd_event_now(event_, CLOCK_MONOTONIC, &now);
  sd_event_add_time(event_, nullptr, CLOCK_MONOTONIC,
                    now + std::chrono::duration_cast<std::chrono::microseconds>(kStopGrace).count(), 10000,
                    on_stop_deadline, this);
  cancel_all_calls();
  hub::cancel_running_helpers();
  debuginfo::cancel_running_pahole();
  maybe_exit();
}

int Server::on_stop_deadline(sd_event_source*, uint64_t, void* self_) {
  auto* self = static_cast<Server*>(self_);
  return guarded("stopping", [self] {
    if (self->inflight_) log_warning("stopping with %zu request(s) still ending", self->inflight_);
    sd_event_exit(self->event_, 0);
  });
}

int Server::on_signal(sd_event_source*, const struct signalfd_siginfo*, void* self_) {
  return guarded("handling a signal", [self_] { static_cast<Server*>(self_)->begin_shutdown(); });
}

void Server::on_new_kernel(const std::string& release, int attempt) {
  constexpr int kMaxAttempts = 5;
  KernelIdentity id = service_.host().identity;
  id.release = release;
  if (!validate_identity(id)) return;
  if (attempt == 0) ++stats_.upgrades_seen;
  ++inflight_;
  // The hub lane, unbounded here: new kernels are few and come from the host.
  hub_pool_->submit(WorkerPool::kOwnJobs, [this, id, attempt] {
    bool retry = false;
    try {
      auto r = service_.prefetch(id, true);
      if (r) {
        log_info("prefetched BTF for new kernel %s", id.to_string().c_str());
      } else {
        // "Not in the hub" and bad identities will not change by waiting.
        retry = r.error().code != Errc::not_in_hub && r.error().code != Errc::invalid_argument &&
                attempt + 1 < kMaxAttempts;
        log_warning("prefetch of %s failed%s: %s", id.to_string().c_str(), retry ? " (will retry)" : "",
                    r.error().message.c_str());
      }
    } catch (const std::exception& e) {
      log_error("prefetch of %s threw: %s", id.to_string().c_str(), e.what());
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
  return guarded("retrying a prefetch", [self, s] {
    auto it = self->retries_.find(s);
    if (it == self->retries_.end()) return;
    Retry retry = std::move(it->second);
    self->retries_.erase(it);
    sd_event_source_disable_unref(s);
    if (!self->stopping_) self->on_new_kernel(retry.release, retry.attempt);
  });
}

}  // namespace btfd::server
