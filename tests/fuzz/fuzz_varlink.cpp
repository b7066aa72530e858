// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: the Varlink codec on arbitrary byte streams, fed in pieces
// as a socket would deliver them.
#include <cstdint>

#include "proto/varlink.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  btfd::proto::FrameReader reader(4096);
  size_t pos = 0;
  while (pos < size) {
    size_t n = std::min<size_t>(size - pos, 1 + data[pos] % 97);
    if (!reader.feed(std::span(data + pos, n), {})) return 0;
    pos += n;
    for (;;) {
      auto m = reader.next();
      if (!m || !*m) break;
      (void)btfd::proto::encode((*m)->json);
    }
  }
  return 0;
}
