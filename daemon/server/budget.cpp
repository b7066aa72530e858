// SPDX-License-Identifier: GPL-2.0-or-later
#include "server/budget.hpp"

#include <cmath>

namespace btfd::server {

bool Quota::try_take(uid_t uid, uint64_t n) {
  uint64_t mine = used_by(uid);
  if (n > total_ - std::min(used_, total_) || n > per_uid_ - std::min(mine, per_uid_)) return false;
  used_ += n;
  by_uid_[uid] = mine + n;
  return true;
}

void Quota::give_back(uid_t uid, uint64_t n) {
  auto it = by_uid_.find(uid);
  if (it == by_uid_.end()) return;
  n = std::min(n, it->second);
  it->second -= n;
  used_ -= std::min(n, used_);
  if (it->second == 0) by_uid_.erase(it);
}

uint64_t Quota::used_by(uid_t uid) const {
  auto it = by_uid_.find(uid);
  return it == by_uid_.end() ? 0 : it->second;
}

bool RateLimiter::try_acquire(uid_t uid, uint64_t* retry_sec) {
  if (per_minute_ == 0) return true;  // unlimited
  auto now = std::chrono::steady_clock::now();
  double rate = static_cast<double>(per_minute_) / 60.0;  // tokens per second
  double burst = static_cast<double>(per_minute_);
  std::lock_guard lock(mu_);
  // Forget UIDs whose buckets have refilled: they are as good as new.
  if (buckets_.size() > 1024) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      double full = it->second.tokens + std::chrono::duration<double>(now - it->second.at).count() * rate;
      it = full >= burst ? buckets_.erase(it) : std::next(it);
    }
  }
  auto [it, fresh] = buckets_.try_emplace(uid, Bucket{burst, now});
  Bucket& b = it->second;
  if (!fresh) {
    b.tokens = std::min(burst, b.tokens + std::chrono::duration<double>(now - b.at).count() * rate);
    b.at = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  if (retry_sec) *retry_sec = static_cast<uint64_t>(std::ceil((1.0 - b.tokens) / rate));
  return false;
}

}  // namespace btfd::server
