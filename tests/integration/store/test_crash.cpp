// SPDX-License-Identifier: GPL-2.0-or-later
// Crash test: SIGKILL a writer at random moments, hundreds of times; after each
// kill, reopening the store must find every committed entry intact, no temp
// files, and no row pointing at a missing or torn blob.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>

#include "store/store.hpp"
#include "support/temp_dir.hpp"

using namespace btfd;

#define FAIL(...)                    \
  do {                               \
    std::fprintf(stderr, __VA_ARGS__); \
    std::fputc('\n', stderr);        \
    return 1;                        \
  } while (0)

int main(int argc, char** argv) {
  if (argc != 2) FAIL("usage: test_crash WRITER");
  test::TempDir dir;
  std::map<std::string, std::string> committed;  // release -> digest hex
  std::mt19937 rng(12345);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  int iterations = 0, kills_mid_write = 0;
  for (; iterations < 300 && std::chrono::steady_clock::now() < deadline; ++iterations) {
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) FAIL("pipe");
    pid_t pid = fork();
    if (pid == 0) {
      dup2(pipefd[1], STDOUT_FILENO);
      std::string seed = std::to_string(iterations + 1);
      execl(argv[1], argv[1], dir.path().c_str(), seed.c_str(), nullptr);
      _exit(127);
    }
    close(pipefd[1]);
    usleep(500 + rng() % 15000);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status)) FAIL("writer exited on its own (status %d) in iteration %d", status, iterations);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(pipefd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    close(pipefd[0]);
    for (size_t pos = 0; pos < out.size();) {
      size_t nl = out.find('\n', pos);
      if (nl == std::string::npos) break;  // a torn report line was not a promise
      std::string line = out.substr(pos, nl - pos);
      committed[line.substr(0, line.find(' '))] = line.substr(line.find(' ') + 1);
      pos = nl + 1;
    }

    auto s = store::Store::open({dir.path(), 1ull << 40});
    if (!s) FAIL("reopen after kill %d: %s", iterations, s.error().message.c_str());
    auto usage = (*s)->usage();
    if (usage.recovered_temps) ++kills_mid_write;
    for (auto& e : std::filesystem::directory_iterator(dir.path() + "/blobs"))
      if (e.path().filename().string().rfind(".tmp-", 0) == 0) FAIL("temp file survived recovery: %s", e.path().c_str());
    for (const auto& [release, hex] : committed) {
      auto hit = (*s)->find_kernel({"crash", "1", "x86_64", release});
      if (!hit) FAIL("lookup %s: %s", release.c_str(), hit.error().message.c_str());
      if (!hit->has_value()) FAIL("committed entry %s lost after kill %d", release.c_str(), iterations);
      if (to_hex((*hit)->first.digest) != hex) FAIL("entry %s has a different digest", release.c_str());
      auto d = sha256_fd((*hit)->second.fd.get());
      if (!d || to_hex(*d) != hex) FAIL("entry %s blob is torn", release.c_str());
    }
    auto listing = (*s)->list();
    if (!listing) FAIL("list: %s", listing.error().message.c_str());
    for (const auto& k : listing->kernels) {
      auto size = std::filesystem::file_size(dir.path() + "/blobs/" + to_hex(k.digest));
      if (size != k.size) FAIL("row %s points at a blob of the wrong size", k.id.release.c_str());
    }
    if ((*s)->usage().corrupt_blobs) FAIL("a blob failed verification after kill %d", iterations);
    // Keep the directory small so the test stays fast.
    if (committed.size() > 200) {
      if (!(*s)->gc(1)) FAIL("gc");
      committed.clear();
    }
  }
  std::printf("%d kills, %zu entries checked at the end, %d kills left a temp file behind\n", iterations,
              committed.size(), kills_mid_write);
  if (iterations < 50) FAIL("too few iterations (%d) to mean anything", iterations);
  return 0;
}
