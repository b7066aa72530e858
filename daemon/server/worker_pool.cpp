// SPDX-License-Identifier: GPL-2.0-or-later
#include "server/worker_pool.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include "util/guard.hpp"

namespace btfd::server {

WorkerPool::WorkerPool(unsigned n) : wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { run(); });
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void WorkerPool::submit(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void WorkerPool::post(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  ssize_t ignored = ::write(wake_.get(), &one, sizeof one);
  (void)ignored;
}

void WorkerPool::run_posted() {
  uint64_t n;
  ssize_t ignored = ::read(wake_.get(), &n, sizeof n);
  (void)ignored;
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(posted_);
  }
  // The last line of defence: jobs answer their own failures, but nothing that
  // escapes one may take the daemon down or skip the callbacks queued after it.
  for (auto& fn : batch) run_guarded("a posted callback", fn);
}

size_t WorkerPool::queued() const {
  std::lock_guard lock(mu_);
  return jobs_.size();
}

void WorkerPool::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (stop_ && jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    run_guarded("a worker job", job);
  }
}

}  // namespace btfd::server
