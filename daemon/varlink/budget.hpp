// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Budgets for what clients make btfd hold: every resource has a limit per
// client (UID) and a limit in total, because a per-item limit alone lets many
// items (or many connections of one user) add up to anything.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace btfd::server {

// Units of one resource held per UID and in total (connections, descriptors,
// bytes, calls). Used on the event loop thread only, so it needs no lock.
//
// The total has fair shares: the callers that are not privileged (root, the
// admin socket) together may hold at most total - reserve, so that no set of
// ordinary users can take what an administrator needs to look at or repair
// btfd, and each of them at most per_uid. A privileged caller is bounded by
// the whole total only: per-UID limits keep users from each other, and root
// (an agent running as root, the kernel hooks) is not one user among many.
class Quota {
 public:
  // what: the resource as a refusal names it ("descriptors"); per_uid_key and
  // total_key: the btfd.conf keys that set the limits, also named.
  struct Names {
    const char* what;
    const char* per_uid_key;
    const char* total_key;
  };
  Quota(Names names, uint64_t per_uid, uint64_t total, uint64_t reserve);
  // For tests and simple uses: no reserve, generic names.
  Quota(uint64_t per_uid, uint64_t total) : Quota({"units", "per-UID limit", "total limit"}, per_uid, total, 0) {}

  enum class Refusal { none, per_uid, shared, total };
  // Takes n units for uid, or nothing (and says which limit) when a limit
  // would be passed.
  Refusal take(uid_t uid, uint64_t n, bool privileged = false);
  bool try_take(uid_t uid, uint64_t n, bool privileged = false) { return take(uid, n, privileged) == Refusal::none; }
  // privileged must be what it was when the units were taken.
  void give_back(uid_t uid, uint64_t n, bool privileged = false);
  // Why a take of n units for uid was refused, naming the limit and whose it is.
  std::string refusal(Refusal r, uid_t uid, uint64_t n) const;

  uint64_t used() const { return used_; }
  uint64_t used_by(uid_t uid) const;
  uint64_t per_uid_limit() const { return per_uid_; }
  uint64_t total_limit() const { return total_; }
  uint64_t shared_limit() const { return total_ - reserve_; }

 private:
  Names names_;
  uint64_t per_uid_, total_, reserve_;
  uint64_t used_ = 0;
  uint64_t shared_used_ = 0;  // held by callers that are not privileged
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
