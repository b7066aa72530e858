// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// A fresh directory per test, removed with everything in it when the test ends.

#include <string>

namespace btfd::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Environment lookups shared by tests (set by meson's test env).
std::string source_root();
std::string build_root();
// ../shared beside the checkout, or "" when absent.
std::string shared_dir();
// Writes a file (creating it), failing the test on error.
void write_text(const std::string& path, const std::string& text);

}  // namespace btfd::test
