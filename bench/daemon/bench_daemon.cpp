// SPDX-License-Identifier: GPL-2.0-or-later
// Daemon benchmark (not a test): cache-hit GetBtf over the socket against a
// bare server (bench-bare-server: the least a server can do for the same
// exchange), with the same client code in the same run. Each pair is one run
// against btfd and one against the bare server, SECONDS each, in alternating
// order; with 1 client it compares median latencies, with 16 throughput.
// usage: bench-daemon BTFD_SOCKET BARE_SOCKET [PAIRS [SECONDS]]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "../common/pairs.hpp"
#include "proto/varlink.hpp"
#include "proto/interface.hpp"

using Clock = std::chrono::steady_clock;

namespace {

struct Load {
  double median_s = 0, p99_s = 0, per_second = 0;
  bool failed = false;
};

// CLIENTS connections, each calling GetBtf (no parameters: this host's BTF, a
// cache hit once warm) one call at a time for SECONDS.
Load run(const std::string& sock, int clients, double seconds) {
  std::vector<std::vector<double>> lat(static_cast<size_t>(clients));
  std::atomic<bool> failed{false};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  Clock::time_point end;
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      auto c = btfd::proto::Client::connect(sock);
      ++ready;
      while (!go) std::this_thread::yield();
      if (!c) {
        failed = true;
        return;
      }
      auto& mine = lat[static_cast<size_t>(t)];
      while (Clock::now() < end) {
        auto a = Clock::now();
        auto r = c->call(btfd::proto::method::kGetBtf, nlohmann::json::object());
        auto b = Clock::now();
        if (!r || r->json.contains("error") || r->fds.empty()) {
          failed = true;
          return;
        }
        mine.push_back(std::chrono::duration<double>(b - a).count());
      }
    });
  }
  // Connections are made before the clock starts: the rows compare calls.
  while (ready < clients) std::this_thread::yield();
  end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  go = true;
  for (auto& th : threads) th.join();
  Load l;
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  if (failed || all.empty()) {
    l.failed = true;
    return l;
  }
  std::sort(all.begin(), all.end());
  l.median_s = all[all.size() / 2];
  l.p99_s = all[all.size() * 99 / 100];
  l.per_second = static_cast<double>(all.size()) / seconds;
  return l;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 5) {
    std::fprintf(stderr, "usage: %s BTFD_SOCKET BARE_SOCKET [PAIRS [SECONDS]]\n", argv[0]);
    return 2;
  }
  const std::string socks[2] = {argv[1], argv[2]};
  int pairs = argc > 3 ? std::stoi(argv[3]) : 15;
  double seconds = argc > 4 ? std::stod(argv[4]) : 0.5;
  for (int clients : {1, 16}) {
    // [0]: btfd, [1]: bare server; per pair.
    std::vector<double> median[2], p99[2], rate[2];
    for (int p = 0; p < pairs; ++p) {
      for (int k = 0; k < 2; ++k) {
        int side = (p + k) % 2;  // alternate who goes first
        Load l = run(socks[side], clients, seconds);
        if (l.failed) {
          std::fprintf(stderr, "a request to %s failed\n", socks[side].c_str());
          return 1;
        }
        median[side].push_back(l.median_s);
        p99[side].push_back(l.p99_s);
        rate[side].push_back(l.per_second);
      }
    }
    for (int side = 0; side < 2; ++side)
      std::printf("%-4s %2d client(s): median %s, p99 %s, %s\n", side == 0 ? "btfd" : "bare", clients,
                  bench::show(bench::spread(median[side]), bench::kUs).c_str(),
                  bench::show(bench::spread(p99[side]), bench::kUs).c_str(),
                  bench::show(bench::spread(rate[side]), bench::kPerSecond).c_str());
    if (clients == 1)
      bench::print_figure("cache-hit GetBtf latency, 1 client (median per run)", median[0], median[1],
                          bench::kUs, {true, 1.5});
    else
      bench::print_figure("cache-hit GetBtf throughput, 16 clients", rate[0], rate[1], bench::kPerSecond,
                          {false, 0.6});
  }
  return 0;
}
