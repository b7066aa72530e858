// SPDX-License-Identifier: GPL-2.0-or-later
// btfd entry point: only wires the engine together.
#include <cstdio>
#include <cstring>

#include "btfd-config.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("btfd %s\n", BTFD_VERSION);
    return 0;
  }
  std::fprintf(stderr, "btfd: the daemon is not built yet\n");
  return 1;
}
