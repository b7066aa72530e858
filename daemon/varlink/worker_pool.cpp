// SPDX-License-Identifier: GPL-2.0-or-later
#include "varlink/worker_pool.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include "util/guard.hpp"

namespace btfd::server {

WorkerPool::WorkerPool(unsigned n) : wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { run(); });
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::stop() {
  std::map<uid_t, std::deque<std::function<void()>>> dropped;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    dropped.swap(jobs_);
    turn_.clear();
    queued_ = 0;
  }
  cv_.notify_all();
  dropped.clear();  // outside the lock: a job's captures may post() as they go
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void WorkerPool::submit(uid_t uid, std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;  // dropped, as stop() drops what is queued
    auto& q = jobs_[uid];
    if (q.empty()) turn_.push_back(uid);
    q.push_back(std::move(job));
    ++queued_;
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
  return queued_;
}

size_t WorkerPool::queued(uid_t uid) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(uid);
  return it == jobs_.end() ? 0 : it->second.size();
}

void WorkerPool::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !turn_.empty(); });
      if (stop_) return;
      uid_t uid = turn_.front();
      turn_.pop_front();
      auto it = jobs_.find(uid);
      job = std::move(it->second.front());
      it->second.pop_front();
      --queued_;
      if (it->second.empty()) jobs_.erase(it);
      else turn_.push_back(uid);  // its next job waits for everyone else's turn
    }
    run_guarded("a worker job", job);
    job = nullptr;  // what the job captured goes now, not when the next one comes
  }
}

}  // namespace btfd::server
