// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "support/sanitizers.hpp"
#include "util/huge_heap.hpp"


namespace {

// kB of this process's anonymous memory on transparent huge pages.
long anon_huge_kb() {
  std::ifstream f("/proc/self/smaps_rollup");
  std::string key;
  long kb = 0;
  while (f >> key) {
    if (key == "AnonHugePages:" && f >> kb) return kb;
    f.ignore(1 << 12, '\n');
  }
  return -1;
}

std::string thp_mode() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  std::getline(f, line);
  return line;
}

}  // namespace

TEST_CASE("prefer_huge_pages_in_heap: a large table lands on huge pages, and allocation works as before") {
  // mallopt and the heap's advice last for the process: done in a child.
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // meson runs tests with MALLOC_PERTURB_, under which malloc and free
    // write every byte: the reserve would be touched, on 4 KiB pages, before
    // it is advised. Tools run without it.
    mallopt(M_PERTURB, 0);
    long before = anon_huge_kb();
    btfd::prefer_huge_pages_in_heap(16u << 20);
    std::vector<uint32_t> table(2u << 20);  // 8 MiB, zeroed: touched
    for (size_t i = 0; i < table.size(); i += 1024) table[i] = static_cast<uint32_t>(i);
    bool values_ok = table[1024] == 1024 && table[1] == 0;
    long after = anon_huge_kb();
    // 0: huge pages gained; 1: none; 2: allocation broken; 3: no smaps.
    int code = !values_ok ? 2 : (before < 0 || after < 0) ? 3 : after > before ? 0 : 1;
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  int code = WEXITSTATUS(status);
  CHECK_MESSAGE(code != 2, "the table did not hold its values");
  CHECK_MESSAGE(code != 3, "/proc/self/smaps_rollup has no AnonHugePages");
  std::string mode = thp_mode();
  CAPTURE(mode);
#ifdef BTFD_TEST_SANITIZED
  // A sanitizer's allocator is not the heap this advises: documented no-op.
  CHECK(code == 1);
#else
  if (mode.find("[never]") != std::string::npos)
    CHECK_MESSAGE(code == 1, "huge pages appeared although THP is off");
  else
    CHECK_MESSAGE(code == 0, "an 8 MiB table got no huge pages (THP: " << mode << ")");
#endif
}
