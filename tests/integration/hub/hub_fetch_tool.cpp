// SPDX-License-Identifier: GPL-2.0-or-later
// Test driver: fetch one kernel through btfd's hub code and print the outcome as
// one JSON line: {"ok":true,...} or {"error":"<errc>","message":...}.
// usage: hub-fetch-tool OUT DISTRO/VERSION/ARCH/RELEASE [--timeout-ms N]
//        [--max-download N] [--max-output N] [--attempts N] [--no-checksums] [--no-digest] MIRROR...
#include <fcntl.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "hub/hub.hpp"
#include "util/fd.hpp"
#include "util/sha256.hpp"

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  btfd::hub::Options opts;
  opts.download.connect_timeout_ms = 2000;
  opts.backoff_initial_ms = 50;
  std::string out = argv[1], key = argv[2];
  bool digest_output = true;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--timeout-ms" && i + 1 < argc) opts.download.total_timeout_ms = std::stol(argv[++i]);
    else if (a == "--low-speed-s" && i + 1 < argc) opts.download.low_speed_time_s = std::stol(argv[++i]);
    else if (a == "--max-download" && i + 1 < argc) opts.download.max_bytes = std::stoull(argv[++i]);
    else if (a == "--max-output" && i + 1 < argc) opts.extract.max_output_bytes = std::stoull(argv[++i]);
    else if (a == "--attempts" && i + 1 < argc) opts.max_attempts = std::stoi(argv[++i]);
    else if (a == "--temp-dir" && i + 1 < argc) opts.temp_dir = argv[++i];
    else if (a == "--no-checksums") opts.verify_checksums = false;
    else if (a == "--no-digest") digest_output = false;  // the benchmark times the hub alone
    else opts.mirrors.push_back(a);
  }
  btfd::KernelIdentity id;
  size_t p1 = key.find('/'), p2 = key.find('/', p1 + 1), p3 = key.find('/', p2 + 1);
  id = {key.substr(0, p1), key.substr(p1 + 1, p2 - p1 - 1), key.substr(p2 + 1, p3 - p2 - 1), key.substr(p3 + 1)};
  auto fd = btfd::open_file(out, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (!fd) return 2;
  btfd::hub::Hub hub(opts, btfd::hub::attempt_in_process);
  uint64_t progress_calls = 0;
  auto r = hub.fetch(id, fd->get(), [&](const btfd::hub::Progress&) { ++progress_calls; });
  // VmHWM, not ru_maxrss: the latter is inherited across execve from the test driver.
  long hwm_kb = 0;
  if (FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "VmHWM: %ld kB", &hwm_kb) == 1) break;
    std::fclose(f);
  }
  nlohmann::json j;
  if (r) {
    auto digest = digest_output ? btfd::sha256_fd(fd->get()) : btfd::Result<btfd::Digest>(btfd::Digest{});
    j = {{"ok", true}, {"url", r->url}, {"sha256", digest ? btfd::to_hex(*digest) : ""}, {"size", r->size},
         {"downloaded", r->downloaded}, {"progress_calls", progress_calls},
         {"checksum_verified", r->checksum_verified}};
  } else {
    j = {{"ok", false}, {"error", btfd::errc_name(r.error().code)}, {"message", r.error().message}};
  }
  j["maxrss_kb"] = hwm_kb;
  nlohmann::json mirrors = nlohmann::json::array();
  for (const auto& m : hub.stats())
    mirrors.push_back({{"base", m.base}, {"requests", m.requests}, {"not_found", m.not_found}, {"errors", m.errors}});
  j["mirrors"] = mirrors;
  std::printf("%s\n", j.dump().c_str());
  return r ? 0 : 1;
}
