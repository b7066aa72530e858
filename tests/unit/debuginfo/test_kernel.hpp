// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The debug-info tests' kernel: tests/data/debuginfo/kernel.c (and module.c)
// compiled with -g at test time, as a distribution's debug package would
// hold them.

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "support/temp_dir.hpp"

namespace btfd::test {

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Compiles the test kernel into `out` (an ELF with DWARF and a build-id).
inline void build_test_kernel(const std::string& out) {
  std::string src = source_root() + "/tests/data/debuginfo/kernel.c";
  std::string cmd = "cc -g -O1 -nostdlib -static -Wl,--build-id -o " + shell_quote(out) + " " + shell_quote(src);
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, cmd);
}

// Compiles the test module into `out` (a relocatable object, as a .ko is).
inline void build_test_module(const std::string& out) {
  std::string src = source_root() + "/tests/data/debuginfo/module.c";
  std::string cmd = "cc -g -O1 -c -o " + shell_quote(out) + " " + shell_quote(src);
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, cmd);
}

// A stand-in for pahole: a shell script answering --version like pahole and
// otherwise running `body`.
inline std::string fake_pahole(const TempDir& dir, const std::string& name, const std::string& body) {
  std::string path = dir / name;
  write_text(path, "#!/bin/sh\nif [ \"$1\" = --version ]; then echo v1.24; exit 0; fi\n" + body + "\n");
  REQUIRE(std::system(("chmod +x " + shell_quote(path)).c_str()) == 0);
  return path;
}

}  // namespace btfd::test
