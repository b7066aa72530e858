// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// A fixed set of threads running jobs; results go back to the event loop
// through post(), which wakes the loop with an eventfd.
//
// Jobs queue per UID and are taken in turn, one UID after another (round
// robin): a UID with many calls queued delays another UID's call by at most
// one job per UID ahead of it, never by its whole queue. How many calls a UID
// may have queued at all is the server's budget (MaxCallsPerUser=).

#include <sys/types.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "util/fd.hpp"

namespace btfd::server {

class WorkerPool {
 public:
  // The queue key of btfd's own jobs (prefetches of new kernels, upkeep).
  static constexpr uid_t kOwnJobs = static_cast<uid_t>(-1);
  explicit WorkerPool(unsigned threads);
  // Same as stop().
  ~WorkerPool();
  // Drops the jobs still queued (destroyed on the calling thread, so what
  // they hold is given back there), lets running jobs finish, then joins the
  // threads. Running jobs may still post() meanwhile. Idempotent.
  void stop();
  void submit(uid_t uid, std::function<void()> job);
  // Queue a callback for the loop thread; the loop calls run_posted() when
  // wake_fd() is readable.
  void post(std::function<void()> fn);
  int wake_fd() const { return wake_.get(); }
  void run_posted();
  size_t queued() const;
  size_t queued(uid_t uid) const;  // that UID's jobs waiting

 private:
  void run();
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<uid_t, std::deque<std::function<void()>>> jobs_;  // only UIDs with jobs queued
  std::deque<uid_t> turn_;                                   // whose job runs next, each UID once
  size_t queued_ = 0;
  std::deque<std::function<void()>> posted_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
  UniqueFd wake_;
};

}  // namespace btfd::server
