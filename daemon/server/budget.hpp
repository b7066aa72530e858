// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Budgets for what clients make btfd hold: every resource has a limit per
// client (UID) and a limit in total, because a per-item limit alone lets many
// items (or many connections of one user) add up to anything.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace btfd::server {

// Units held per UID and in total (connections, descriptors, bytes). Used on
// the event loop thread only, so it needs no lock.
class Quota {
 public:
  Quota(uint64_t per_uid, uint64_t total) : per_uid_(per_uid), total_(total) {}
  // Takes n units for uid, or nothing when either limit would be passed.
  bool try_take(uid_t uid, uint64_t n);
  void give_back(uid_t uid, uint64_t n);
  uint64_t used() const { return used_; }
  uint64_t used_by(uid_t uid) const;
  uint64_t per_uid_limit() const { return per_uid_; }
  uint64_t total_limit() const { return total_; }

 private:
  uint64_t per_uid_, total_;
  uint64_t used_ = 0;
  std::unordered_map<uid_t, uint64_t> by_uid_;  // only UIDs holding something
};

// A token bucket per UID: `rate` events per minute with a burst of as many.
// Called from worker threads, hence the lock. Full buckets are forgotten, so
// the map holds only UIDs that spent tokens recently.
class RateLimiter {
 public:
  explicit RateLimiter(uint64_t per_minute) : per_minute_(per_minute) {}
  // True when uid may go ahead now; otherwise *retry_sec says when it may.
  bool try_acquire(uid_t uid, uint64_t* retry_sec = nullptr);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point at;
  };
  uint64_t per_minute_;
  std::mutex mu_;
  std::unordered_map<uid_t, Bucket> buckets_;
};

}  // namespace btfd::server
