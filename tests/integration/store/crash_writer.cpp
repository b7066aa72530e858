// SPDX-License-Identifier: GPL-2.0-or-later
// Child of the crash test: writes kernel entries forever and reports each one on
// stdout only after commit returned, so every reported line is a promise the
// store must keep even if this process is SIGKILLed a moment later.
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>

#include "store/store.hpp"

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  auto s = btfd::store::Store::open({argv[1], 1ull << 40});
  if (!s) {
    std::fprintf(stderr, "open: %s\n", s.error().message.c_str());
    return 1;
  }
  std::mt19937_64 rng(std::stoull(argv[2]));
  for (uint64_t i = std::stoull(argv[2]) * 1000000;; ++i) {
    std::vector<uint8_t> data(1 + rng() % (256 * 1024));
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    btfd::KernelIdentity id{"crash", "1", "x86_64", "r" + std::to_string(i)};
    auto e = (*s)->put_kernel(id, data, btfd::store::Source::file, "crash-test", false);
    if (!e) {
      std::fprintf(stderr, "put: %s\n", e.error().message.c_str());
      return 1;
    }
    std::string line = id.release + " " + btfd::to_hex(e->digest) + "\n";
    if (::write(STDOUT_FILENO, line.data(), line.size()) < 0) return 1;
  }
}
