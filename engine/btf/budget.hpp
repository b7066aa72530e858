// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// What one minimize() call may cost, and the call's running account. btfd's
// socket is world-connectable, so an object is hostile input: without bounds a
// few hundred KB of object with many CO-RE relocations and long names costs
// GBs and minutes. The account is checked where it grows (per object, per
// relocation, per candidate, inside the CO-RE rules' recursions, between the
// output merge's rounds), so a call stops before it spends past a limit,
// never after the fact.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace btfd::btf {

struct MinimizeBudget {
  // CO-RE relocations per call, all objects together ([Limits] MaxRelocations=).
  uint32_t max_relocations = 65536;
  // Longest section, type, member or enumerator name on a relocation's path.
  // The kernel refuses BTF names of KSYM_NAME_LEN (512) bytes or more
  // (kernel/bpf/btf.c, btf_name_valid_identifier); libbpf sets no limit.
  uint32_t max_name_bytes = 512;
  // The compact report's serialized bytes ([Limits] MaxReportBytes=).
  uint64_t max_report_bytes = 1 << 20;
  // What the minimizer allocates for the client's objects: their parsed .BTF
  // and relocations, candidate lists, specs, the report ([Limits] MinimizeMemory=).
  // The kernel's own BTF and what is bounded by it (marks, output) are not counted.
  uint64_t max_memory_bytes = 256ull << 20;
  // [Limits] MinimizeSec=; deadline_sec is what it was set from, for the message only.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  uint64_t deadline_sec = 0;
  // Set when the client went away or btfd is stopping.
  const std::atomic<bool>* cancelled = nullptr;

  // For tools a user runs on their own objects on their own machine (btfctl
  // minimize, check, gen): no budget of the daemon's, only the limits of the
  // formats themselves (the .BTF.ext cap, the name length).
  static MinimizeBudget local() {
    MinimizeBudget b;
    b.max_relocations = UINT32_MAX;
    b.max_report_bytes = UINT64_MAX;
    b.max_memory_bytes = UINT64_MAX;
    return b;
  }
};

// "The longest name btfd accepts" for messages and the check below.
Status check_name_length(const MinimizeBudget& budget, std::string_view what, size_t bytes);

// One call's account against its MinimizeBudget. One per call, one thread.
class CallBudget {
 public:
  explicit CallBudget(const MinimizeBudget& limits) : limits_(limits) {}
  CallBudget(const CallBudget&) = delete;
  CallBudget& operator=(const CallBudget&) = delete;

  const MinimizeBudget& limits() const { return limits_; }
  // The object errors are about: `"name": ` prefixes them ("" for none).
  void set_object(std::string_view name);

  // `count` more relocations (one object's); too_large past max_relocations.
  Status add_relocations(uint64_t count);
  // Memory: too_large, with nothing charged, when the total would pass the limit.
  Status charge(uint64_t bytes);
  void release(uint64_t bytes) noexcept;
  // The report's serialized bytes, counted as they are added.
  Status charge_report(uint64_t bytes);
  // Deadline and cancellation, now (a clock read).
  Status checkpoint();
  // For hot loops and recursions: counts a step and looks at the clock every
  // kStepsPerPoll steps. true: the call must stop, stop_error() says why.
  bool step() {
    if (stopped_ != Stop::none) return true;
    return ++steps_ % kStepsPerPoll == 0 && poll();
  }
  bool stopped() const { return stopped_ != Stop::none; }
  Error stop_error() const;

  uint64_t memory() const { return memory_; }
  uint64_t peak_memory() const { return peak_memory_; }
  uint64_t report_bytes() const { return report_bytes_; }
  uint64_t relocations() const { return relocations_; }

 private:
  enum class Stop : uint8_t { none, deadline, cancelled };
  static constexpr uint32_t kStepsPerPoll = 1024;
  bool poll();
  Error too_large(const std::string& what) const;

  MinimizeBudget limits_;
  std::string prefix_;
  Stop stopped_ = Stop::none;
  uint32_t steps_ = 0;
  uint64_t relocations_ = 0, memory_ = 0, peak_memory_ = 0, report_bytes_ = 0;
};

// Memory charged for as long as its owner lives (an object, a cache, one
// relocation's scratch), released with it.
class Charge {
 public:
  Charge() = default;
  explicit Charge(CallBudget* budget) : budget_(budget) {}
  Charge(Charge&& o) noexcept : budget_(o.budget_), bytes_(o.bytes_) { o.bytes_ = 0; }
  Charge& operator=(Charge&& o) noexcept;
  Charge(const Charge&) = delete;
  Charge& operator=(const Charge&) = delete;
  ~Charge() { reset(); }

  // Nothing is charged without a budget (callers outside a minimize() call).
  Status add(uint64_t bytes);
  void sub(uint64_t bytes) noexcept;
  void reset() noexcept;
  uint64_t bytes() const { return bytes_; }

 private:
  CallBudget* budget_ = nullptr;
  uint64_t bytes_ = 0;
};

}  // namespace btfd::btf
