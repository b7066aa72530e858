// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// A kernel's (or a module's) BTF made from its own debug info: the debug file
// found (debug_files), held to the kernel's build-id when that is known
// (build_id), turned into BTF by a bounded pahole (pahole), and checked like
// a download before anyone stores it: btf_validate plus "is a kernel" for a
// kernel, btf_validate of base and split together for a module (split_btf).
//
// One generation at a time: pahole on a real vmlinux takes a minute and over
// a GiB. A second call waits for the running one up to GeneratorOptions::
// queue_wait, then fails busy naming what is running. A failed generation is
// remembered for retry_after per debug file (its path, size and mtime), so a
// client asking again does not start pahole again on the same file.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "debuginfo/pahole.hpp"
#include "util/result.hpp"

namespace btfd::debuginfo {

struct GeneratorOptions {
  bool enabled = true;  // [Debuginfo] Enable=: installed debug files are used
  std::string host_root;
  PaholeOptions pahole;
  std::chrono::milliseconds queue_wait{std::chrono::minutes(10)};
  std::chrono::seconds retry_after{3600};
};

struct Generated {
  std::vector<uint8_t> btf;
  std::string from;      // the debug file as on the host, or the URL it came from
  std::string build_id;  // the debug file's ("" if it has none)
  std::string pahole;    // pahole's version
  // What a cache entry's origin says: "pahole v1.24 from FROM (build-id ID)".
  std::string origin() const;
};

struct GeneratorStats {
  uint64_t generated = 0, failures = 0;
  std::string running;  // what is being generated now ("" if nothing)
  std::string last;     // the last success: what from what
  std::string last_failure;
  std::string pahole_version;  // "" until pahole ran once
};

class Generator {
 public:
  explicit Generator(GeneratorOptions o);
  const GeneratorOptions& options() const { return o_; }

  // The kernel BTF of `release` from its installed debug file. expected_build_id
  // (the running kernel's): a debug file with another build-id is refused.
  // Errc::not_found when there is no debug file: the message names every
  // place looked at.
  Result<Generated> kernel_from_installed(std::string_view release, const std::optional<std::string>& expected_build_id);
  // The kernel BTF from a debug file btfd obtained itself (a debuginfod
  // download at path, shown as `from`), whose build-id must be expected_build_id.
  Result<Generated> kernel_from_file(const std::string& path, const std::string& from, const std::string& expected_build_id);
  // A module's split BTF over its kernel's BTF (base_btf_path: the kernel's
  // raw BTF file, already validated; base: its bytes).
  Result<Generated> module_from_installed(std::string_view release, std::string_view module,
                                          const std::string& base_btf_path, std::span<const uint8_t> base);
  GeneratorStats stats() const;

 private:
  // Runs pahole on path under the one-at-a-time lock and the failure memo.
  Result<Generated> generate(const std::string& path, const std::string& from, const std::string& what,
                             const std::string& base_path, std::span<const uint8_t> base);
  Result<std::string> version();

  GeneratorOptions o_;
  std::timed_mutex one_;  // held for a whole generation
  mutable std::mutex mu_;  // guards the fields below
  std::string version_;
  std::map<std::string, std::pair<std::string, std::chrono::steady_clock::time_point>> failed_;  // file key -> why, until
  GeneratorStats stats_;
  std::chrono::steady_clock::time_point running_since_;
};

}  // namespace btfd::debuginfo
