// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Daemon statistics: requests by method and outcome, cache and source counts,
// latency histogram; rendered as JSON and Prometheus text.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "util/result.hpp"

namespace btfd::server {

class Stats {
 public:
  // method and outcome are names from btfd's own tables (never client text),
  // so the number of keys is fixed.
  void request(const char* method, const char* outcome, double seconds);
  std::atomic<uint64_t> hits{0}, misses{0}, native{0}, hub_fetches{0}, hub_bytes{0}, minimized{0},
      minimized_hits{0}, coalesced{0}, prefetches{0}, prefetch_failures{0}, upgrades_seen{0},
      debuginfo_generated{0}, debuginfo_failures{0},
      refused_connections{0}, refused_fds{0}, refused_calls{0}, dropped_clients{0};
  nlohmann::json to_json() const;
  // Prometheus text exposition (for node_exporter's textfile collector), with
  // the server's own metrics: {name: {type, help, value}}, value a number or
  // {mirror label: number}.
  std::string to_prometheus(const nlohmann::json& extra) const;
  // Counters survive btfd's idle exits and restarts: saved to a file in the
  // cache directory (atomically) and added back at start. A file that does
  // not parse is ignored (the counters start from zero); the error says why.
  Status save(const std::string& path) const;
  Status load(const std::string& path);

  static constexpr std::array<double, 10> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.1, 1, 10, 60};

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> requests_;  // keyed by known names only
  std::array<uint64_t, kBuckets.size() + 1> latency_{};
  double latency_sum_ = 0;
  uint64_t latency_count_ = 0;
};

}  // namespace btfd::server
