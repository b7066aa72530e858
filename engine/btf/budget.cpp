// SPDX-License-Identifier: GPL-2.0-or-later
#include "btf/budget.hpp"

#include "btf/utf8.hpp"

namespace btfd::btf {
namespace {

// "256 MiB", "64 KiB", "1000 bytes": a limit as it is written in btfd.conf.
std::string size_text(uint64_t b) {
  if (b && b % (1ull << 20) == 0) return std::to_string(b >> 20) + " MiB";
  if (b && b % 1024 == 0) return std::to_string(b >> 10) + " KiB";
  return std::to_string(b) + " bytes";
}

}  // namespace

Status check_name_length(const MinimizeBudget& budget, std::string_view what, size_t bytes) {
  if (bytes <= budget.max_name_bytes) return {};
  return make_error(Errc::too_large, "a " + std::string(what) + " of " + std::to_string(bytes) +
                                         " bytes; the longest name btfd accepts is " +
                                         std::to_string(budget.max_name_bytes) + " bytes (KSYM_NAME_LEN)");
}

void CallBudget::set_object(std::string_view name) {
  prefix_ = name.empty() ? std::string() : "\"" + valid_utf8(name) + "\": ";
}

Error CallBudget::too_large(const std::string& what) const { return make_error(Errc::too_large, prefix_ + what); }

Status CallBudget::add_relocations(uint64_t count) {
  const uint64_t total = relocations_ + count;
  if (total > limits_.max_relocations) {
    std::string n = std::to_string(count) + " CO-RE relocations";
    if (relocations_) n += ", " + std::to_string(total) + " with the call's other objects";
    return too_large(n + "; btfd minimizes at most " + std::to_string(limits_.max_relocations) +
                     " per call ([Limits] MaxRelocations=)");
  }
  relocations_ = total;
  return {};
}

Status CallBudget::charge(uint64_t bytes) {
  if (bytes > limits_.max_memory_bytes || memory_ > limits_.max_memory_bytes - bytes)
    return too_large("minimizing would take more than " + size_text(limits_.max_memory_bytes) +
                     " of memory ([Limits] MinimizeMemory=)");
  memory_ += bytes;
  if (memory_ > peak_memory_) peak_memory_ = memory_;
  return {};
}

void CallBudget::release(uint64_t bytes) noexcept { memory_ = bytes > memory_ ? 0 : memory_ - bytes; }

Status CallBudget::charge_report(uint64_t bytes) {
  if (bytes > limits_.max_report_bytes || report_bytes_ > limits_.max_report_bytes - bytes)
    return too_large("the relocation report would take more than " + size_text(limits_.max_report_bytes) +
                     " ([Limits] MaxReportBytes=)");
  report_bytes_ += bytes;
  return {};
}

bool CallBudget::poll() {
  if (limits_.cancelled && limits_.cancelled->load(std::memory_order_relaxed)) stopped_ = Stop::cancelled;
  else if (limits_.deadline != std::chrono::steady_clock::time_point::max() &&
           std::chrono::steady_clock::now() >= limits_.deadline)
    stopped_ = Stop::deadline;
  return stopped_ != Stop::none;
}

Status CallBudget::checkpoint() {
  if (stopped_ == Stop::none && !poll()) return {};
  return stop_error();
}

Error CallBudget::stop_error() const {
  if (stopped_ == Stop::cancelled)
    return make_error(Errc::cancelled, "cancelled: the client went away or btfd is stopping");
  if (stopped_ == Stop::none) return make_error(Errc::internal, "the minimizer stopped for no reason");
  const std::string took = limits_.deadline_sec ? "took longer than " + std::to_string(limits_.deadline_sec) + " s"
                                                : "ran past its deadline";
  return too_large("minimizing " + took + " ([Limits] MinimizeSec=)");
}

Charge& Charge::operator=(Charge&& o) noexcept {
  if (this != &o) {
    reset();
    budget_ = o.budget_;
    bytes_ = o.bytes_;
    o.bytes_ = 0;
  }
  return *this;
}

Status Charge::add(uint64_t bytes) {
  if (!budget_) return {};
  BTFD_TRY_VOID(budget_->charge(bytes));
  bytes_ += bytes;
  return {};
}

void Charge::sub(uint64_t bytes) noexcept {
  if (bytes > bytes_) bytes = bytes_;
  if (budget_) budget_->release(bytes);
  bytes_ -= bytes;
}

void Charge::reset() noexcept { sub(bytes_); }

}  // namespace btfd::btf
