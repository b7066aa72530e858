// SPDX-License-Identifier: GPL-2.0-or-later
// Daemon benchmark (not a test): cache-hit GetBtf over the socket from N
// concurrent clients for a fixed time; prints median/p99 latency and requests/s.
// usage: bench-daemon SOCKET CLIENTS SECONDS
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "proto/varlink.hpp"
#include "proto/interface.hpp"

using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  std::string sock = argv[1];
  int clients = std::stoi(argv[2]);
  double seconds = std::stod(argv[3]);
  std::vector<std::vector<double>> lat(static_cast<size_t>(clients));
  std::atomic<bool> failed{false};
  auto end = Clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      auto c = btfd::proto::Client::connect(sock);
      if (!c) {
        failed = true;
        return;
      }
      while (Clock::now() < end) {
        auto a = Clock::now();
        auto r = c->call(btfd::proto::method::kGetBtf, nlohmann::json::object());
        auto b = Clock::now();
        if (!r || r->json.contains("error") || r->fds.empty()) {
          failed = true;
          return;
        }
        lat[static_cast<size_t>(t)].push_back(std::chrono::duration<double, std::micro>(b - a).count());
      }
    });
  }
  for (auto& th : threads) th.join();
  if (failed) {
    std::fprintf(stderr, "a request failed\n");
    return 1;
  }
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  std::printf("%2d client(s): %8zu requests, %9.0f req/s, median %6.1f us, p99 %7.1f us\n", clients, all.size(),
              static_cast<double>(all.size()) / seconds, all[all.size() / 2], all[all.size() * 99 / 100]);
  return 0;
}
