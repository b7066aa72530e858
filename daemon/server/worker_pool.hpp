// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// A fixed set of threads running jobs; results go back to the event loop
// through post(), which wakes the loop with an eventfd.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "util/fd.hpp"

namespace btfd::server {

class WorkerPool {
 public:
  explicit WorkerPool(unsigned threads);
  // Same as stop().
  ~WorkerPool();
  // Runs the jobs still queued, then joins the threads. Jobs may still post()
  // meanwhile (the callbacks are dropped with the pool): the pool stays whole
  // until every thread is done with it. Idempotent.
  void stop();
  void submit(std::function<void()> job);
  // Queue a callback for the loop thread; the loop calls run_posted() when
  // wake_fd() is readable.
  void post(std::function<void()> fn);
  int wake_fd() const { return wake_.get(); }
  void run_posted();
  size_t queued() const;

 private:
  void run();
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::deque<std::function<void()>> posted_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
  UniqueFd wake_;
};

}  // namespace btfd::server
