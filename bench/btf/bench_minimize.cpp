// SPDX-License-Identifier: GPL-2.0-or-later
// Minimizer benchmark (not a test). In one run, on the same inputs, times
//   bpftool gen min_core_btf          (reference, whole process)
//   btfctl minimize                   (cold: whole process)
//   btf::minimize with the kernel already parsed (warm: what the daemon does)
// for one object (the first) and for all objects at once, over the given
// kernels, in pairs (bpftool and btfctl back to back, in alternating order),
// and prints per kernel medians, ratios and peak memory, then issue #28's
// rows (the kernels up to 8 MB pooled, and the biggest kernel given), in wall
// time and in CPU time (user + system of the process: on a machine busy with
// other work wall time is mostly waiting for a core).
// usage: bench-minimize [--pairs N] BTFCTL KERNEL_BTF... -- OBJECT...
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "../common/pairs.hpp"
#include "btf/minimizer.hpp"
#include "util/fd.hpp"

using Clock = std::chrono::steady_clock;

namespace {

struct Run {
  double seconds;
  long maxrss_kb;
  double cpu_seconds;  // user + system: what a load from other work changes least
};

Run run_process(const std::vector<std::string>& argv) {
  auto start = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
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
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return {-1, 0, 0};
  auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return {s, ru.ru_maxrss, secs(ru.ru_utime) + secs(ru.ru_stime)};
}

std::string base_name(const std::string& p) {
  return p.substr(p.rfind('/') + 1);
}

// One row's pairs, pooled over kernels.
struct Pooled {
  std::vector<double> ours, ref;
  std::vector<std::string> kernels;
  size_t objects_min = 0, objects_max = 0, bytes_min = 0, bytes_max = 0;
  void add(const std::vector<double>& o, const std::vector<double>& r, const std::string& kernel, size_t n,
           size_t bytes) {
    bytes_min = bytes_min ? std::min(bytes_min, bytes) : bytes;
    bytes_max = std::max(bytes_max, bytes);
    ours.insert(ours.end(), o.begin(), o.end());
    ref.insert(ref.end(), r.begin(), r.end());
    kernels.push_back(kernel);
    objects_min = objects_min ? std::min(objects_min, n) : n;
    objects_max = std::max(objects_max, n);
  }
};

constexpr size_t kSmallKernelBytes = 8 << 20;

}  // namespace

int main(int argc, char** argv) {
  int pairs = 15;
  int first = 1;
  if (argc > 2 && std::string(argv[1]) == "--pairs") {
    pairs = std::max(1, std::atoi(argv[2]));
    first = 3;
  }
  if (argc - first < 3) {
    std::fprintf(stderr, "usage: %s [--pairs N] BTFCTL KERNEL_BTF... -- OBJECT...\n", argv[0]);
    return 2;
  }
  std::string btfctl = argv[first];
  std::vector<std::string> kernels, objects;
  bool objs = false;
  for (int i = first + 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--")
      objs = true;
    else
      (objs ? objects : kernels).push_back(argv[i]);
  }
  if (kernels.empty() || objects.empty()) return 2;
  std::vector<std::vector<uint8_t>> obj_bytes;
  for (auto& o : objects) {
    auto b = btfd::read_file(o, 1 << 28);
    if (!b) {
      std::fprintf(stderr, "%s: %s\n", o.c_str(), b.error().message.c_str());
      return 1;
    }
    obj_bytes.push_back(std::move(b).value());
  }
  // The biggest kernel given gets rows of its own.
  std::string biggest;
  size_t biggest_bytes = 0;
  // [0]: one object, [1]: all objects the kernel takes; wall time, then CPU time.
  Pooled small[2], big[2], small_cpu[2], big_cpu[2];
  std::printf("%-34s %-8s %10s %10s %10s %8s %8s %10s %10s\n", "kernel (medians)", "objects", "bpftool",
              "cold", "warm", "cold/bt", "warm/bt", "rss(bt)", "rss(cold)");
  for (const auto& k : kernels) {
    auto bytes = btfd::read_file(k, 1ull << 30);
    if (!bytes) continue;
    size_t kernel_bytes = bytes->size();
    auto parsed = btfd::btf::KernelBtf::parse(std::move(bytes).value());
    if (!parsed) continue;
    if (kernel_bytes > biggest_bytes) {
      biggest = k;
      biggest_bytes = kernel_bytes;
      big[0] = big[1] = big_cpu[0] = big_cpu[1] = {};
    }
    // "All objects" means all this kernel can take: an object whose relocations
    // are ambiguous here is refused (as libbpf refuses to load it) and left out.
    std::vector<size_t> accepted;
    std::string refused;
    for (size_t i = 0; i < objects.size(); ++i) {
      btfd::btf::ObjectInput one{objects[i], obj_bytes[i]};
      if (btfd::btf::minimize(**parsed, std::span(&one, 1)))
        accepted.push_back(i);
      else
        refused += " " + base_name(objects[i]);
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
      std::vector<std::string> a = {"bpftool", "gen", "min_core_btf", k, "/tmp/btfd-bench-bt.btf"};
      a.insert(a.end(), os.begin(), os.end());
      std::vector<std::string> b = {btfctl, "--quiet", "minimize", k};
      b.insert(b.end(), os.begin(), os.end());
      b.insert(b.end(), {"-o", "/tmp/btfd-bench-ours.btf"});
      std::vector<double> bt, cold, warm, bt_cpu, cold_cpu;
      long rss_bt = 0, rss_cold = 0;
      bool ok = true;
      for (int r = 0; r < pairs && ok; ++r) {
        Run x{}, y{};
        if (r % 2 == 0)
          x = run_process(a), y = run_process(b);
        else
          y = run_process(b), x = run_process(a);
        ok = x.seconds >= 0 && y.seconds >= 0;
        bt.push_back(x.seconds);
        cold.push_back(y.seconds);
        bt_cpu.push_back(x.cpu_seconds);
        cold_cpu.push_back(y.cpu_seconds);
        rss_bt = std::max(rss_bt, x.maxrss_kb);
        rss_cold = std::max(rss_cold, y.maxrss_kb);
      }
      if (!ok) {
        std::printf("%-34s %-8zu  (%s failed)\n", base_name(k).c_str(), os.size(),
                    bt.back() < 0 ? "bpftool" : "btfctl");
        continue;
      }
      for (int r = 0; r < pairs * 4; ++r) {
        auto t = Clock::now();
        auto res = btfd::btf::minimize(**parsed, inputs);
        warm.push_back(std::chrono::duration<double>(Clock::now() - t).count());
        if (!res) break;
      }
      double mb = bench::spread(bt).median, mc = bench::spread(cold).median, mw = bench::spread(warm).median;
      std::printf("%-34s %-8zu %9.1fms %9.1fms %9.2fms %8.2f %8.3f %8ldMB %8ldMB\n", base_name(k).c_str(),
                  os.size(), mb * 1e3, mc * 1e3, mw * 1e3, mc / mb, mw / mb, rss_bt / 1024, rss_cold / 1024);
      if (kernel_bytes <= kSmallKernelBytes) {
        small[set].add(cold, bt, k, os.size(), kernel_bytes);
        small_cpu[set].add(cold_cpu, bt_cpu, k, os.size(), kernel_bytes);
      }
      if (k == biggest) {
        big[set].add(cold, bt, k, os.size(), kernel_bytes);
        big_cpu[set].add(cold_cpu, bt_cpu, k, os.size(), kernel_bytes);
      }
    }
    std::printf("  (%s: %.1f MB file, %u types%s%s)\n", k.c_str(), static_cast<double>(kernel_bytes) / 1e6,
                (*parsed)->type_count(),
                refused.empty() ? "" : "; ambiguous here, left out:", refused.c_str());
  }
  std::fflush(stdout);
  // A row's name says what it pooled: the objects, the kernels' count.
  auto objects_named = [](const Pooled& p) {
    return p.objects_min == p.objects_max
               ? std::to_string(p.objects_max)
               : std::to_string(p.objects_min) + "–" + std::to_string(p.objects_max);
  };
  for (int set = 0; set < 2; ++set) {
    if (small[set].ours.empty()) continue;
    char sizes[64];
    std::snprintf(sizes, sizeof sizes, "%.1f–%.1f MB", static_cast<double>(small[set].bytes_min) / 1e6,
                  static_cast<double>(small[set].bytes_max) / 1e6);
    std::string name = "cold btfctl minimize vs bpftool, " + objects_named(small[set]) + " object(s), " +
                       std::to_string(small[set].kernels.size()) + " kernels of " + sizes;
    bench::print_figure(name, small[set].ours, small[set].ref, bench::kMs, {true, 0.3});
    bench::print_figure(name + ", CPU time", small_cpu[set].ours, small_cpu[set].ref, bench::kMs,
                        {true, 0.3});
  }
  for (int set = 0; set < 2; ++set) {
    if (big[set].ours.empty()) continue;
    std::string name = "cold btfctl minimize vs bpftool, " + objects_named(big[set]) +
                       " object(s), biggest kernel (" + base_name(biggest) + ", " +
                       std::to_string(biggest_bytes / 1000000) + " MB)";
    bench::print_figure(name, big[set].ours, big[set].ref, bench::kMs, {true, 0.3});
    bench::print_figure(name + ", CPU time", big_cpu[set].ours, big_cpu[set].ref, bench::kMs, {true, 0.3});
  }
  return 0;
}
