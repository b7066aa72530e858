// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The transport: an sd-event loop serving Varlink on Unix sockets, with heavy
// work on worker pools. It owns every budget a client can spend; the methods
// (daemon/methods/, one file each) are free functions it calls with a
// Request whose parameters the interface table (proto/interface.hpp) has
// checked, and which answer through the Server's method API below.
//
// The socket is world-connectable, so everything a client sends is hostile
// input, and the loop is shared by every client. Hence:
// - no call can throw past its boundary (every callback and job is guarded);
// - every resource a client makes btfd hold has a budget per UID and in total
//   (connections, descriptors, object bytes, unread reply bytes, hub lookups),
//   and time limits (a message must arrive whole in time, objects must be read
//   in time, replies must be read in time);
// - the loop only does cheap, bounded work: objects arriving through pipes are
//   read here without blocking, files and everything that can block (the
//   store's disk and locks, the hub, minimizing) run on workers, in two lanes:
//   work that may wait on a mirror (a kernel's BTF not at hand, Refresh, new
//   kernels' prefetches) on [Hub] Downloads= threads with a bounded queue,
//   everything else on the Workers, never queued behind a mirror.
// Split by concern: server.cpp (loop, listeners, lifecycle), connection.cpp
// (reading, framing, replies in order, backpressure), call_costs.cpp (what a
// call holds and how it is given back), dispatch.cpp (a message to a method,
// answers, lanes), object_reads.cpp (reading a call's objects).

#include <sys/types.h>
#include <systemd/sd-event.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "proto/interface.hpp"
#include "proto/varlink.hpp"
#include "service/service.hpp"
#include "service/stats.hpp"
#include "upgrade/watcher.hpp"
#include "varlink/budget.hpp"
#include "varlink/worker_pool.hpp"

namespace btfd::server {

class Server {
 public:
  struct Request;
  // A method: its full name in the interface table and the free function
  // that serves it (daemon/methods/ has the table; main.cpp hands it over).
  using Handler = void (*)(Server& server, Request& request);
  struct MethodHandler {
    const char* name;
    Handler handler;
  };
  Server(Config cfg, Service& service, Stats& stats, std::span<const MethodHandler> methods);
  ~Server();
  // Takes the sockets from systemd or binds cfg.socket_path (and
  // cfg.admin_socket); then runs until idle exit or SIGTERM. Returns the exit code.
  Result<int> run();
  sd_event* event() const { return event_; }
  // Called by the kernel-upgrade watcher (loop thread). Failed tries are
  // retried from a loop timer with doubling delays, holding no worker.
  void on_new_kernel(const std::string& release, int attempt = 0);

  // For the fuzzer and tests: serve one already-connected socket (as if
  // accepted from the public listener) without binding anything.
  Status adopt_connection(int fd);
  // For the fuzzer: sets up the loop and the worker pool without listening.
  Status start_detached();
  // No connection open and no work in flight (the fuzzer waits for this).
  bool quiescent() const { return conns_.empty() && inflight_ == 0; }

  struct Connection;
  struct Call;
  struct CallCosts;
  struct PendingObjects;

  // ---- What a method (daemon/methods/) may use -------------------------
  // What a method gets: its call, its parameters (checked against the
  // interface table: every field has its declared type), the descriptors
  // that came with the call and the connection it came on (opaque to
  // methods: they hand it back to admit() and run()).
  struct Request {
    Connection& conn;
    Call& call;
    const nlohmann::json& params;
    std::vector<UniqueFd>& fds;
  };
  Service& service() { return service_; }
  const Config& config() const { return cfg_; }
  Stats& stats() { return stats_; }
  // The call's answer, in call order on its connection (a oneway call's is
  // dropped); from the loop thread.
  void answer(const Call& call, nlohmann::json result, std::vector<UniqueFd> fds = {});
  // The same with the reply already encoded (proto::encode of proto::reply):
  // for a reply a method keeps ready (a cache hit's).
  void answer_encoded(const Call& call, std::string reply, std::vector<UniqueFd> fds = {});
  // Its error: the wire name from proto::error_name (domain and code), the
  // object it is about (Error::object) as "object" and the message's prefix.
  void fail(const Call& call, const Error& e);
  // org.varlink.service.InvalidParameter naming the parameter.
  void fail_parameter(const Call& call, const std::string& parameter, const std::string& message);
  // An error reply with this name and these parameters: for the
  // org.varlink.service errors, whose parameters are their own (the one
  // place error replies are built).
  void fail(const Call& call, const char* name, const std::string& message, nlohmann::json extra = nlohmann::json::object());
  // Takes the call's in-flight slot on its connection and its call slot
  // (MaxCallsPerUser=, MaxCalls=); false (and the call answered Busy, naming
  // the limit) when either is spent, or when btfd is short of memory and the
  // call is heavy.
  bool admit(Connection& c, Call& call, bool heavy = true);
  // The lane: Lane::hub for work that may wait on a mirror, Lane::control
  // for short bounded reads of btfd's state (Status, ListKernels) that must
  // answer while the Workers are busy minimizing.
  enum class Lane { fast, hub, control };
  // A worker's answer: the result and the descriptors sent with it.
  struct Reply {
    Reply(nlohmann::json r = nlohmann::json::object(), std::vector<UniqueFd> f = {})
        : result(std::move(r)), fds(std::move(f)) {}
    nlohmann::json result;
    std::vector<UniqueFd> fds;
  };
  // Runs work on a worker of the lane (the call admitted first: admit());
  // its reply (or its error) is answered on the loop. A call whose client
  // went away (or btfd is stopping) ends without running; one whose lane's
  // queue (or its UID's share of it) is full is answered Busy at once.
  void run(Call call, Lane lane, std::function<Result<Reply>(Call&)> work);
  // The lane for GetBtf/Prefetch of a kernel, chosen before queueing.
  Lane lane_for(const KernelIdentity& kid);
  // A call's objects, read under one deadline and within its budgets (pipes
  // on the loop, files that may stall on reader threads); then `done` runs on
  // the loop with them. A failure to read one is answered here.
  using ObjectsRead = std::function<void(Call call, std::vector<ClientObject> objects)>;
  void read_objects(Call call, std::vector<UniqueFd> fds, std::vector<std::string> names, ObjectsRead done);
  // For calls made with "more": progress replies, at most five a second
  // (called on a worker; sent from the loop).
  hub::ProgressFn progress_replies(const Call& call);
  // Unprivileged callers may send only so many misses to the hub.
  std::function<Status()> hub_gate(const Call& call) const;
  // What clients make btfd hold now (Stats' "held").
  nlohmann::json held() const;
  size_t connections() const { return conns_.size(); }
  // One ImportBundle at a time, daemon-wide: each holds its whole bundle (up
  // to 1 GiB) in memory and a worker; false when one is running.
  bool begin_import() { return !import_running_.exchange(true); }
  void end_import() { import_running_ = false; }  // from any thread
  // ---------------------------------------------------------------------

 private:
  struct Listener {
    UniqueFd fd;
    sd_event_source* src = nullptr;
    bool admin = false;   // connections through it may call privileged methods
    Server* server = nullptr;
  };
  Status setup_listeners();
  Status add_listener(UniqueFd fd, bool admin);
  Status bind_socket(const std::string& path, mode_t mode, gid_t group, UniqueFd* out);
  void pause_accepting();
  void resume_accepting();
  void schedule_prefetch_retry(const std::string& release, int attempt);
  static int on_retry(sd_event_source*, uint64_t usec, void* self);
  static int on_accept(sd_event_source*, int fd, uint32_t, void* listener);
  static int on_conn_io(sd_event_source*, int fd, uint32_t revents, void* conn);
  static int on_wake(sd_event_source*, int, uint32_t, void* self);
  static int on_tick(sd_event_source*, uint64_t, void* self);
  static int on_signal(sd_event_source*, const struct signalfd_siginfo*, void* self);
  static int on_stop_deadline(sd_event_source*, uint64_t, void* self);
  void find_memory_limit();
  static int on_object_io(sd_event_source*, int fd, uint32_t revents, void* pending);
  static int on_object_deadline(sd_event_source*, uint64_t, void* pending);

  void accept_from(Listener& l);
  void serve(UniqueFd fd, bool admin);
  void handle_io(Connection& c, uint32_t revents);
  void handle_readable(Connection& c);
  void process_messages(Connection& c);
  bool backlogged(const Connection& c) const;
  // A half-closed connection whose calls were all answered and sent.
  bool answered_all(const Connection& c) const;
  void tick();

  // dispatch.cpp
  void handle_message(Connection& c, proto::Message msg);
  // A call's cost handle (connection.hpp says what it holds); registered
  // with its connection so that closing the connection cancels the call.
  std::shared_ptr<CallCosts> open_costs(Connection& c, uint64_t seq);
  // The handle's deleter: gives everything back, on the loop thread (from
  // another thread it posts itself there).
  void release_costs(CallCosts* costs);
  // Take from the call's quotas for it; an error (Busy or TooLarge) names the limit.
  std::optional<Error> take_fds(Call& call, uint64_t n);
  std::optional<Error> take_object_bytes(Call& call, uint64_t n);
  // Cancels every call (btfd is stopping).
  void cancel_all_calls();
  // Empty while btfd's memory is well below its cgroup's memory.max (or
  // [Limits] MemoryLimit=), else why new heavy work is refused: btfd says
  // Busy before the kernel's OOM killer takes everyone's calls down.
  std::string memory_refusal();
  // Empty when the lane may take one more job of uid's, else why not (the
  // hub lane's queue, or uid's share of it, is full: answered Busy).
  std::string lane_full(Lane lane, uid_t uid, bool privileged) const;
  void submit(Lane lane, uid_t uid, std::function<void()> job);
  // reply: encoded, or nullopt for a oneway call.
  void deliver(const Call& call, std::optional<std::string> reply, std::vector<UniqueFd> fds);
  void finish_call(const Call& call, const char* outcome);
  bool privileged(const Connection& c) const;

  // object_reads.cpp
  // Ends the reading phase: an error (about one of the objects, Error::object)
  // is answered, else the objects go to the call's continuation.
  void object_read_done(PendingObjects& p, std::optional<Error> error);
  // Regular files that may stall (not a memfd, not tmpfs) are read on a reader
  // thread of their own, never a worker; it reports through file_reads_done.
  struct FileRead {
    size_t index = 0;
    std::optional<Error> error;
    std::vector<uint8_t> bytes;
  };
  void start_file_reads(PendingObjects& p);
  void file_reads_done(uint64_t pending_id, uid_t uid, std::vector<FileRead> reads);
  void cancel_pending_objects(uint64_t conn_id);

  void send(uint64_t conn_id, const nlohmann::json& j, std::vector<UniqueFd> fds = {});
  void send_encoded(uint64_t conn_id, std::string bytes, std::vector<UniqueFd> fds = {});
  void flush(Connection& c);
  void close_connection(uint64_t id);
  void begin_shutdown();
  void maybe_exit();
  void update_events(Connection& c);

  Config cfg_;
  Service& service_;
  Stats& stats_;
  // Each handler by its method in the interface table, resolved once (a
  // call then costs no string built to find its handler).
  std::vector<std::pair<const proto::idl::Method*, const MethodHandler*>> handlers_;
  sd_event* event_ = nullptr;
  // What a readable connection's bytes are read into before its reader takes
  // them: one buffer for the loop, never zeroed (a read overwrites it).
  static constexpr size_t kReadChunk = 16 * 1024;
  std::unique_ptr<uint8_t[]> read_buf_ = std::make_unique_for_overwrite<uint8_t[]>(kReadChunk);
  std::vector<std::unique_ptr<Listener>> listeners_;
  struct OwnSocket {
    std::string path;
    dev_t dev;
    ino_t ino;
  };
  std::vector<OwnSocket> own_sockets_;  // what we bound (and unlink at exit, if it is still ours)
  bool accept_paused_ = false;
  std::unique_ptr<WorkerPool> pool_;      // the Workers; results of both lanes are posted through it
  std::unique_ptr<WorkerPool> hub_pool_;  // [Hub] Downloads= threads
  std::unique_ptr<WorkerPool> control_pool_;  // one thread: Status, ListKernels
  std::thread::id loop_thread_ = std::this_thread::get_id();
  std::unique_ptr<upgrade::Watcher> watcher_;
  std::map<uint64_t, std::unique_ptr<Connection>> conns_;
  std::map<uint64_t, std::unique_ptr<PendingObjects>> pending_objects_;
  uint64_t next_id_ = 1;
  size_t inflight_ = 0;
  std::atomic<bool> import_running_{false};  // begin_import()
  // Reader threads alive (a stalled one stays until its read returns): at
  // most kFileReadersPerUid per UID and kFileReaders in all, then Busy.
  static constexpr unsigned kFileReadersPerUid = 4;
  static constexpr unsigned kFileReaders = 16;
  std::map<uid_t, unsigned> file_readers_;
  unsigned file_readers_total_ = 0;
  // How a reader thread reaches the loop; ~Server clears server first, so a
  // read that returns after the loop is gone is dropped.
  struct ReaderLink {
    std::mutex mu;
    Server* server = nullptr;
  };
  std::shared_ptr<ReaderLink> reader_link_ = std::make_shared<ReaderLink>();
  // Budgets (loop thread only, except hub_lookups_).
  Quota conn_quota_;
  // Connections through the admin socket or from root: a budget of their own,
  // so users who fill conn_quota_ cannot lock the administrators out.
  Quota admin_conn_quota_;
  Quota fd_quota_;
  Quota object_quota_;
  // Calls queued or running on a worker (any lane) or reading objects, per
  // UID and in all: what bounds the queues, whatever the connections do.
  Quota call_quota_;
  // The cgroup's memory files (cgroup v2), found at start; refusals are
  // decided from a reading at most 100 ms old.
  std::string memory_current_path_;
  uint64_t memory_limit_ = 0;  // bytes; 0: none known
  uint64_t memory_used_ = 0;
  std::chrono::steady_clock::time_point memory_read_{};
  uint64_t reply_bytes_ = 0;  // unread replies queued, all connections
  std::shared_ptr<RateLimiter> hub_lookups_;
  RateLimiter failure_log_{60};  // failed-request log lines per minute, in all
  struct Retry {
    std::string release;
    int attempt = 0;
  };
  // Prefetch retries waiting on their timers; no idle exit while any is due.
  std::map<sd_event_source*, Retry> retries_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point last_activity_ = std::chrono::steady_clock::now();
};

}  // namespace btfd::server
