// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/check_report.hpp"

#include <algorithm>
#include <map>

#include "btf/utf8.hpp"

namespace btfctl::check {
namespace {

using btfd::btf::valid_utf8;

using Reasons = std::map<std::pair<std::string, std::string>, std::vector<std::string>>;

// The reasons one object fails on one kernel (guarded = false), or falls back
// under a guard (true), each with its guard ("" for failures) and the programs.
Reasons failure_reasons(const Object& obj, const Cell& cell, bool guarded) {
  Reasons out;
  if (!cell.error.empty()) {
    if (!guarded) out[{"cannot be relocated: " + cell.error, ""}] = {};
    return out;
  }
  for (const Issue& i : cell.issues) {
    if (i.outcome == Outcome::absent || i.blocks_load() == guarded) continue;
    auto& progs = out[{i.reason, i.guard ? i.guard->text() : ""}];
    if (!i.program.empty()) progs.push_back(i.program);
    else
      for (const Program& p : obj.programs.programs) progs.push_back(p.name);
  }
  for (auto& [_, progs] : out) {
    std::sort(progs.begin(), progs.end());
    progs.erase(std::unique(progs.begin(), progs.end()), progs.end());
  }
  return out;
}

std::string plural(size_t n, const char* one, const char* many) { return std::to_string(n) + " " + (n == 1 ? one : many); }

}  // namespace

std::vector<ObjectSummary> summarize(const std::vector<Object>& objects, const std::vector<KernelRow>& rows) {
  std::vector<ObjectSummary> out(objects.size());
  for (size_t o = 0; o < objects.size(); ++o) {
    ObjectSummary& s = out[o];
    for (size_t k = 0; k < rows.size(); ++k) {
      if (!rows[k].error.empty() || rows[k].cells.size() != objects.size()) continue;
      const Cell& cell = rows[k].cells[o];
      ++s.checked;
      Verdict v = cell.verdict();
      s.loads += v != Verdict::fails;
      s.guarded += v == Verdict::loads_guarded;
      for (bool guarded : {false, true}) {
        if (!guarded && v != Verdict::fails) continue;
        auto& groups = guarded ? s.guarded_fallbacks : s.failures;
        for (auto& [reason_guard, progs] : failure_reasons(objects[o], cell, guarded)) {
          // A named copy: clang 14 does not let a lambda capture a structured binding.
          const auto& key = reason_guard;
          auto g = std::find_if(groups.begin(), groups.end(),
                                [&](const auto& f) { return f.reason == key.first && f.guard == key.second; });
          if (g == groups.end()) g = groups.insert(groups.end(), FailureGroup{key.first, key.second, {}, {}});
          g->kernels.push_back(k);
          for (const auto& p : progs)
            if (std::find(g->programs.begin(), g->programs.end(), p) == g->programs.end()) g->programs.push_back(p);
          std::sort(g->programs.begin(), g->programs.end());
        }
      }
    }
  }
  return out;
}

std::vector<std::string> summary_lines(const Report& r) {
  std::vector<std::string> lines;
  constexpr size_t kShownKernels = 6;
  for (size_t o = 0; o < r.objects.size(); ++o) {
    const ObjectSummary& s = r.summary[o];
    std::string line = valid_utf8(r.objects[o].name) + ": " + std::to_string(s.loads) + "/" +
                       plural(s.checked, "kernel", "kernels");
    if (s.guarded) line += ", " + std::to_string(s.guarded) + " with guarded fallbacks";
    std::vector<const FailureGroup*> groups;
    for (const FailureGroup& g : s.failures) groups.push_back(&g);
    for (const FailureGroup& g : s.guarded_fallbacks) groups.push_back(&g);
    for (const FailureGroup* gp : groups) {
      const FailureGroup& g = *gp;
      line += "; ";
      if (!g.guard.empty()) line += "guarded: " + valid_utf8(g.reason) + ", under " + valid_utf8(g.guard) + ",";
      else line += valid_utf8(g.reason);
      line += " on " + std::to_string(g.kernels.size()) + ": ";
      for (size_t i = 0; i < g.kernels.size() && i < kShownKernels; ++i)
        line += (i ? ", " : "") + valid_utf8(r.rows[g.kernels[i]].id);
      if (g.kernels.size() > kShownKernels) line += " and " + std::to_string(g.kernels.size() - kShownKernels) + " more";
      if (!g.programs.empty()) {
        line += " (";
        for (size_t i = 0; i < g.programs.size(); ++i) line += (i ? ", " : "") + valid_utf8(g.programs[i]);
        line += ")";
      }
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

nlohmann::json to_json(const Report& r) {
  using nlohmann::json;
  json objects = json::array();
  for (size_t o = 0; o < r.objects.size(); ++o) {
    const Object& obj = r.objects[o];
    json progs = json::array();
    for (const Program& p : obj.programs.programs)
      progs.push_back({{"name", valid_utf8(p.name)}, {"section", valid_utf8(p.section)}});
    auto groups = [&](const std::vector<FailureGroup>& from) {
      json out = json::array();
      for (const FailureGroup& g : from) {
        json kernels = json::array(), gp = json::array();
        for (size_t k : g.kernels) kernels.push_back(valid_utf8(r.rows[k].id));
        for (const auto& p : g.programs) gp.push_back(valid_utf8(p));
        json e = {{"reason", valid_utf8(g.reason)}, {"programs", gp}, {"kernels", kernels}};
        if (!g.guard.empty()) e["guard"] = valid_utf8(g.guard);
        out.push_back(std::move(e));
      }
      return out;
    };
    objects.push_back({{"name", valid_utf8(obj.name)},
                       {"path", valid_utf8(obj.path)},
                       {"programs", progs},
                       {"kernels_checked", r.summary[o].checked},
                       {"kernels_loading", r.summary[o].loads},
                       {"kernels_loading_guarded", r.summary[o].guarded},
                       {"failures", groups(r.summary[o].failures)},
                       {"guarded_fallbacks", groups(r.summary[o].guarded_fallbacks)}});
  }
  json kernels = json::array();
  for (const KernelRow& row : r.rows) {
    json k = {{"id", valid_utf8(row.id)},           {"distro", valid_utf8(row.entry.distro)},
              {"version", valid_utf8(row.entry.version)}, {"arch", valid_utf8(row.entry.arch)},
              {"release", valid_utf8(row.entry.release)}, {"error", nullptr}};
    if (!row.error.empty()) k["error"] = valid_utf8(row.error);
    json results = json::array();
    for (size_t o = 0; o < row.cells.size() && o < r.objects.size(); ++o) {
      const Cell& cell = row.cells[o];
      const Object& obj = r.objects[o];
      json progs = json::array();
      for (size_t p = 0; p < obj.programs.programs.size(); ++p)
        progs.push_back({{"name", valid_utf8(obj.programs.programs[p].name)},
                         {"loads", cell.program_verdicts[p] != Verdict::fails},
                         {"verdict", verdict_name(cell.program_verdicts[p])}});
      json issues = json::array();
      for (const Issue& i : cell.issues) {
        json guard;
        if (i.guard)
          guard = {{"relo", i.guard->relo},
                   {"insn", i.guard->insn},
                   {"kind", i.guard->kind},
                   {"access", valid_utf8(i.guard->access)},
                   {"local", valid_utf8(i.guard->local_spec)},
                   {"value", i.guard->value}};
        issues.push_back({{"program", i.program.empty() ? json() : json(valid_utf8(i.program))},
                          {"section", valid_utf8(i.section)},
                          {"relo", i.relo},
                          {"insn", i.insn},
                          {"kind", i.kind},
                          {"access", valid_utf8(i.access)},
                          {"local", valid_utf8(i.local_spec)},
                          {"result", outcome_name(i.outcome)},
                          {"candidates", i.candidates},
                          {"reason", valid_utf8(i.reason)},
                          {"detail", valid_utf8(i.detail)},
                          {"guard", guard}});
      }
      results.push_back({{"object", valid_utf8(obj.name)},
                         {"loads", cell.loads()},
                         {"verdict", verdict_name(cell.verdict())},
                         {"error", cell.error.empty() ? json() : json(valid_utf8(cell.error))},
                         {"relocations", cell.relocations},
                         {"programs", progs},
                         {"unresolved", issues}});
    }
    k["objects"] = results;
    kernels.push_back(std::move(k));
  }
  size_t errors = 0;
  bool all_load = true;
  for (const KernelRow& row : r.rows) errors += !row.error.empty();
  for (const ObjectSummary& s : r.summary) all_load &= s.loads == s.checked;
  return {{"source", valid_utf8(r.source)},
          {"objects", objects},
          {"kernels", kernels},
          {"kernel_errors", errors},
          {"all_load", all_load && errors == 0}};
}

}  // namespace btfctl::check
