// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// `btfctl check`'s outputs from one run: the summary (kernels sharing a failure
// grouped), the text lines, the JSON document (schema in btfctl(1)) and the
// self-contained HTML matrix.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/check_run.hpp"

namespace btfctl::check {

struct FailureGroup {  // one reason an object fails (or falls back under a guard), and where
  std::string reason;                // "field `request.rq_disk` missing"
  std::string guard;                 // guarded groups: "field_exists `request.rq_disk`"; else ""
  std::vector<std::string> programs;  // the programs it fails (sorted)
  std::vector<size_t> kernels;       // rows, in row order
};

struct ObjectSummary {
  size_t checked = 0;  // kernels read (rows without an error)
  size_t loads = 0;    // of those, where every program loads (guarded fallbacks included)
  size_t guarded = 0;  // of `loads`, where some program loads only with guarded fallbacks
  std::vector<FailureGroup> failures;  // in order of first appearance
  // Failing relocations under a guard, on kernels where the object loads or
  // fails for another reason; in order of first appearance.
  std::vector<FailureGroup> guarded_fallbacks;
};

std::vector<ObjectSummary> summarize(const std::vector<Object>& objects, const std::vector<KernelRow>& rows);

struct Report {
  std::string source;
  const std::vector<Object>& objects;
  const std::vector<KernelRow>& rows;
  std::vector<ObjectSummary> summary;
};

// "sample: 3/4 kernels; field `task_struct.real_parent` missing on 1: ubuntu/... (sample_execve)";
// with guarded fallbacks: "biotop: 4/4 kernels, 2 with guarded fallbacks; guarded: field
// `request___x.rq_disk` missing, under field_exists `request___x.rq_disk`, on 2: ... (block_rq_issue)"
std::vector<std::string> summary_lines(const Report& r);
nlohmann::json to_json(const Report& r);
std::string to_html(const Report& r);

}  // namespace btfctl::check
