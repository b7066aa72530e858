// SPDX-License-Identifier: GPL-2.0-or-later
#include "varlink/budget.hpp"

#include <algorithm>
#include <cmath>

namespace btfd::server {

Quota::Quota(Names names, uint64_t per_uid, uint64_t total, uint64_t reserve)
    : names_(names), per_uid_(per_uid), total_(total), reserve_(std::min(reserve, total)) {}

Quota::Refusal Quota::take(uid_t uid, uint64_t n, bool privileged) {
  uint64_t mine = used_by(uid);
  if (!privileged && n > per_uid_ - std::min(mine, per_uid_)) return Refusal::per_uid;
  if (n > total_ - std::min(used_, total_)) return Refusal::total;
  if (!privileged && n > shared_limit() - std::min(shared_used_, shared_limit())) return Refusal::shared;
  used_ += n;
  if (!privileged) shared_used_ += n;
  by_uid_[uid] = mine + n;
  return Refusal::none;
}

void Quota::give_back(uid_t uid, uint64_t n, bool privileged) {
  auto it = by_uid_.find(uid);
  if (it == by_uid_.end()) return;
  n = std::min(n, it->second);
  it->second -= n;
  used_ -= std::min(n, used_);
  if (!privileged) shared_used_ -= std::min(n, shared_used_);
  if (it->second == 0) by_uid_.erase(it);
}

uint64_t Quota::used_by(uid_t uid) const {
  auto it = by_uid_.find(uid);
  return it == by_uid_.end() ? 0 : it->second;
}

std::string Quota::refusal(Refusal r, uid_t uid, uint64_t n) const {
  auto num = [](uint64_t v) { return std::to_string(v); };
  // A limit set by a key says which; a fixed one says so.
  auto key = [](const char* k) { return k ? std::string(" ([Limits] ") + k + "=)" : std::string(" (a fixed limit)"); };
  std::string asked = n == 1 ? "" : " (asked for " + num(n) + " more)";
  switch (r) {
    case Refusal::none: return {};
    case Refusal::per_uid:
      return "uid " + num(uid) + " holds " + num(used_by(uid)) + " of its " + num(per_uid_) + " " + names_.what + asked +
             key(names_.per_uid_key);
    case Refusal::shared:
      return "ordinary users together hold " + num(shared_used_) + " of the " + num(shared_limit()) + " " + names_.what +
             " they may share" + asked + " (" + num(reserve_) + " of the " + num(total_) + " are kept for root and the admin socket)";
    case Refusal::total:
      return "btfd holds " + num(used_) + " of its " + num(total_) + " " + names_.what + " in all" + asked + key(names_.total_key);
  }
  return {};
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
