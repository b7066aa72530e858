// SPDX-License-Identifier: GPL-2.0-or-later
// Minimizer benchmark (not a test). In one run, on the same inputs, times
//   bpftool gen min_core_btf          (reference, whole process)
//   btfctl minimize                   (cold: whole process)
//   btf::minimize with the kernel already parsed (warm: what the daemon does)
// for one object and for all objects at once, over the given kernels, and
// prints medians, ratios and peak memory.
// usage: bench-minimize BTFCTL KERNEL_BTF... -- OBJECT...
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "btf/minimizer.hpp"
#include "util/fd.hpp"

using Clock = std::chrono::steady_clock;

struct Run {
  double seconds;
  long maxrss_kb;
};

static Run run_process(const std::vector<std::string>& argv) {
  auto start = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    execvp(a[0], a.data());
    _exit(127);
  }
  int status = 0;
  struct rusage ru {};
  wait4(pid, &status, 0, &ru);
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return {-1, 0};
  return {s, ru.ru_maxrss};
}

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s BTFCTL KERNEL_BTF... -- OBJECT...\n", argv[0]);
    return 2;
  }
  std::string btfctl = argv[1];
  std::vector<std::string> kernels, objects;
  bool objs = false;
  for (int i = 2; i < argc; ++i) {
    if (std::string(argv[i]) == "--") objs = true;
    else (objs ? objects : kernels).push_back(argv[i]);
  }
  const int reps = 5;
  std::printf("%-34s %-8s %10s %10s %10s %8s %8s %10s %10s\n", "kernel", "objects", "bpftool", "cold", "warm",
              "cold/bt", "warm/bt", "rss(bt)", "rss(cold)");
  for (const auto& k : kernels) {
    auto bytes = btfd::read_file(k, 1ull << 30);
    if (!bytes) continue;
    auto parsed = btfd::btf::KernelBtf::parse(std::move(bytes).value());
    if (!parsed) continue;
    std::vector<std::vector<uint8_t>> obj_bytes;
    for (auto& o : objects) obj_bytes.push_back(btfd::read_file(o, 1 << 28).value());
    // "All objects" means all this kernel can take: an object whose relocations
    // are ambiguous here is refused (as libbpf refuses to load it) and left out.
    std::vector<size_t> accepted;
    std::string refused;
    for (size_t i = 0; i < objects.size(); ++i) {
      btfd::btf::ObjectInput one{objects[i], obj_bytes[i]};
      if (btfd::btf::minimize(**parsed, std::span(&one, 1))) accepted.push_back(i);
      else refused += " " + objects[i].substr(objects[i].rfind('/') + 1);
    }
    for (int set = 0; set < 2; ++set) {
      std::vector<size_t> idx = set == 0 ? std::vector<size_t>{0} : accepted;
      if (set == 1 && idx.size() < 2) continue;
      std::vector<std::string> os;
      std::vector<btfd::btf::ObjectInput> inputs;
      for (size_t i : idx) {
        os.push_back(objects[i]);
        inputs.push_back({objects[i], obj_bytes[i]});
      }
      std::vector<double> bt, cold, warm;
      long rss_bt = 0, rss_cold = 0;
      bool ok = true;
      for (int r = 0; r < reps && ok; ++r) {
        std::vector<std::string> a = {"bpftool", "gen", "min_core_btf", k, "/tmp/btfd-bench-bt.btf"};
        a.insert(a.end(), os.begin(), os.end());
        Run x = run_process(a);
        std::vector<std::string> b = {btfctl, "--quiet", "minimize", k};
        b.insert(b.end(), os.begin(), os.end());
        b.push_back("-o");
        b.push_back("/tmp/btfd-bench-ours.btf");
        Run y = run_process(b);
        if (y.seconds < 0) ok = false;
        if (x.seconds >= 0) bt.push_back(x.seconds), rss_bt = std::max(rss_bt, x.maxrss_kb);
        cold.push_back(y.seconds);
        rss_cold = std::max(rss_cold, y.maxrss_kb);
      }
      if (!ok) {
        std::printf("%-34s %-8zu  (btfctl failed)\n", k.substr(k.rfind('/') + 1).c_str(), os.size());
        continue;
      }
      for (int r = 0; r < reps * 4; ++r) {
        auto t = Clock::now();
        auto res = btfd::btf::minimize(**parsed, inputs);
        warm.push_back(std::chrono::duration<double>(Clock::now() - t).count());
        if (!res) break;
      }
      double mb = median(bt), mc = median(cold), mw = median(warm);
      std::printf("%-34s %-8zu %9.1fms %9.1fms %9.2fms %8.2f %8.3f %8ldMB %8ldMB\n",
                  k.substr(k.rfind('/') + 1).c_str(), os.size(), mb * 1e3, mc * 1e3, mw * 1e3,
                  mb > 0 ? mc / mb : 0, mb > 0 ? mw / mb : 0, rss_bt / 1024, rss_cold / 1024);
    }
    std::printf("  (%s: %.1f MB file, %u types%s%s)\n", k.c_str(),
                static_cast<double>((*parsed)->btf()->raw().size()) / 1e6, (*parsed)->type_count(),
                refused.empty() ? "" : "; ambiguous here, left out:", refused.c_str());
  }
  std::printf("goals: cold <= 1.0x bpftool, warm <= 0.1x bpftool, peak memory <= 2x the kernel file\n");
  return 0;
}
