// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The daemon: an sd-event loop serving io.btfd over Varlink on a Unix socket,
// with heavy work on a worker pool. Clients never block one another: sockets are
// non-blocking, every connection has bounded buffers, limited in-flight calls
// and an idle timeout.

#include <systemd/sd-event.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "proto/varlink.hpp"
#include "server/config.hpp"
#include "server/service.hpp"
#include "server/stats.hpp"
#include "server/worker_pool.hpp"
#include "upgrade/watcher.hpp"

namespace btfd::server {

class Server {
 public:
  Server(Config cfg, Service& service, Stats& stats);
  ~Server();
  // Takes the socket from systemd or binds cfg.socket_path; then runs until
  // idle exit or SIGTERM. Returns the process exit code.
  Result<int> run();
  sd_event* event() const { return event_; }
  // Called by the kernel-upgrade watcher (loop thread). Failed tries are
  // retried from a loop timer with doubling delays, holding no worker.
  void on_new_kernel(const std::string& release, int attempt = 0);

 private:
  struct Connection;
  Status setup_listener();
  void schedule_prefetch_retry(const std::string& release, int attempt);
  static int on_retry(sd_event_source*, uint64_t usec, void* self);
  static int on_accept(sd_event_source*, int fd, uint32_t, void* self);
  static int on_conn_io(sd_event_source*, int fd, uint32_t revents, void* conn);
  static int on_wake(sd_event_source*, int, uint32_t, void* self);
  static int on_tick(sd_event_source*, uint64_t, void* self);
  static int on_signal(sd_event_source*, const struct signalfd_siginfo*, void* self);

  void handle_readable(Connection& c);
  void handle_message(Connection& c, proto::Message msg);
  void send(uint64_t conn_id, const nlohmann::json& j, std::vector<UniqueFd> fds = {});
  void flush(Connection& c);
  void close_connection(uint64_t id);
  void begin_shutdown();
  bool privileged(const Connection& c) const;
  void maybe_exit();
  void update_events(Connection& c);

  Config cfg_;
  Service& service_;
  Stats& stats_;
  sd_event* event_ = nullptr;
  sd_event_source* listen_src_ = nullptr;
  UniqueFd listen_fd_;
  bool own_socket_ = false;
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<upgrade::Watcher> watcher_;
  std::map<uint64_t, std::unique_ptr<Connection>> conns_;
  uint64_t next_id_ = 1;
  size_t inflight_ = 0;
  struct Retry {
    std::string release;
    int attempt = 0;
  };
  // Prefetch retries waiting on their timers; no idle exit while any is due.
  std::map<sd_event_source*, Retry> retries_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point last_activity_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point stop_deadline_{};
};

}  // namespace btfd::server
