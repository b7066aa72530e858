// SPDX-License-Identifier: GPL-2.0-or-later
// Store benchmark: with the index at 10k entries, median latency of a hit lookup
// (index query + open of the blob) and insert throughput. Not a test.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "store/store.hpp"

using namespace btfd;
using Clock = std::chrono::steady_clock;

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int main(int argc, char** argv) {
  int entries = argc > 1 ? std::atoi(argv[1]) : 10000;
  char tmpl[] = "/tmp/btfd-bench-store-XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  std::string dir = tmpl;
  auto s = store::Store::open({dir, 1ull << 40});
  if (!s) {
    std::fprintf(stderr, "%s\n", s.error().message.c_str());
    return 1;
  }
  std::vector<Digest> kernels;
  std::vector<uint8_t> blob(4096);
  auto t0 = Clock::now();
  for (int i = 0; i < entries; ++i) {
    std::string k = "kernel" + std::to_string(i);
    kernels.push_back(sha256(std::span(reinterpret_cast<const uint8_t*>(k.data()), k.size())));
    std::copy(k.begin(), k.end(), blob.begin());
    auto r = (*s)->put_minimized(kernels.back(), {}, blob, "{}");
    if (!r) {
      std::fprintf(stderr, "%s\n", r.error().message.c_str());
      return 1;
    }
  }
  double insert_s = std::chrono::duration<double>(Clock::now() - t0).count();
  // Warm the verification set, as a running daemon would have.
  for (const auto& k : kernels) (void)(*s)->find_minimized(k, {});
  std::vector<double> lat;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < entries; i += 7) {
      auto a = Clock::now();
      auto hit = (*s)->find_minimized(kernels[static_cast<size_t>(i)], {});
      auto b = Clock::now();
      if (!hit || !hit->has_value()) return 1;
      lat.push_back(std::chrono::duration<double, std::micro>(b - a).count());
    }
  }
  std::printf("store: %d entries (4 KiB blobs, synchronous=FULL)\n", entries);
  std::printf("  insert throughput: %.0f entries/s (%.2f s total, fsync per entry)\n", entries / insert_s, insert_s);
  std::printf("  hit lookup (query + open): median %.1f us, p99 %.1f us  [goal: median <= 20 us]\n", median(lat),
              [&] {
                std::sort(lat.begin(), lat.end());
                return lat[lat.size() * 99 / 100];
              }());
  std::string cmd = "rm -rf " + dir;
  return std::system(cmd.c_str()) == 0 ? 0 : 1;
}
