// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// What every benchmark prints for a row of issue #28: btfd and its reference
// are timed in pairs, back to back in the same run, so that a load that comes
// and goes (other builds on the same 2 cores) hits both sides of a pair alike.
// A row is the median and interquartile range of btfd's figures, of the
// reference's and of the per-pair ratios, in one line that bench/run-all.sh
// collects:
//   figure: NAME: btfd X [p25–p75], reference Y [..], ratio Z× [..] over N pairs (goal ≤ G×): meets
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace bench {

struct Spread {
  double median = 0, p25 = 0, p75 = 0;
};

// Quantiles by nearest rank: with few pairs an interpolated figure would
// claim a precision the runs do not have.
inline Spread spread(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5)]; };
  return {at(0.5), at(0.25), at(0.75)};
}

// How a figure is shown: value × scale, then the unit ("ms", "µs", "req/s").
struct Unit {
  double scale;
  const char* name;
  int decimals;
};
inline constexpr Unit kMs{1e3, "ms", 2};
inline constexpr Unit kUs{1e6, "µs", 1};
inline constexpr Unit kPerSecond{1, "req/s", 0};

inline std::string show(const Spread& s, Unit u) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%.*f %s [%.*f–%.*f]", u.decimals, s.median * u.scale, u.name, u.decimals,
                s.p25 * u.scale, u.decimals, s.p75 * u.scale);
  return buf;
}

// A goal is "ratio ≤ G" (at_most) or "ratio ≥ G" (a throughput).
struct Goal {
  bool at_most;
  double ratio;
};

// ours[i] and ref[i] are pair i. Prints the row and returns whether the
// median ratio meets the goal (the caller decides what that means; no bench
// fails on it: figures on a shared machine are not verdicts).
inline bool print_figure(const std::string& name, const std::vector<double>& ours,
                         const std::vector<double>& ref, Unit unit, Goal goal) {
  std::vector<double> ratios;
  for (size_t i = 0; i < ours.size() && i < ref.size(); ++i)
    if (ref[i] > 0) ratios.push_back(ours[i] / ref[i]);
  Spread r = spread(ratios);
  bool meets = goal.at_most ? r.median <= goal.ratio : r.median >= goal.ratio;
  std::printf(
      "figure: %s: btfd %s, reference %s, ratio %.2f× [%.2f–%.2f] over %zu pairs (goal %s %.2g×): %s\n",
      name.c_str(), show(spread(ours), unit).c_str(), show(spread(ref), unit).c_str(), r.median, r.p25, r.p75,
      ratios.size(), goal.at_most ? "≤" : "≥", goal.ratio,
      ratios.empty() ? "no data"
      : meets        ? "meets"
                     : "misses");
  std::fflush(stdout);
  return meets;
}

}  // namespace bench
