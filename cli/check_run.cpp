// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/check_run.hpp"

#include <linux/bpf.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include "btf/minimizer.hpp"
#include "btf/utf8.hpp"
#include "util/fd.hpp"

namespace btfctl::check {
namespace {

using btfd::btf::RelocReport;

// libbpf gives these kinds a value when no target matches (0/false), instead of
// poisoning the instruction: its bpf_core_calc_*_relo with no target spec.
bool resolves_when_absent(const std::string& kind) {
  static const char* const kAbsentOk[] = {"field_exists", "type_exists", "type_matches", "enumval_exists",
                                          "target_type_id", "type_size"};
  for (const char* k : kAbsentOk)
    if (kind == k) return true;
  return false;
}

// "struct request.rq_disk" -> "request.rq_disk"; the root alone is "struct request".
std::string without_kind_word(const std::string& access) {
  auto sp = access.find(' ');
  return sp == std::string::npos ? access : access.substr(sp + 1);
}
std::string root_of(const std::string& access) {
  auto end = access.find_first_of(".[:", access.find(' ') == std::string::npos ? 0 : access.find(' '));
  return end == std::string::npos ? access : access.substr(0, end);
}

bool is_field_kind(const std::string& kind) {
  return kind == "byte_off" || kind == "byte_sz" || kind == "field_exists" || kind == "signed" ||
         kind == "lshift_u64" || kind == "rshift_u64";
}
bool is_enumval_kind(const std::string& kind) { return kind.rfind("enumval", 0) == 0; }

std::string reason_for(const RelocReport& r, Outcome o) {
  bool field = is_field_kind(r.kind);
  bool enumval = is_enumval_kind(r.kind);
  // Kernels share a reason only if it names no kernel type id: the detail does.
  if (o == Outcome::ambiguous) {
    if (field) return "field `" + without_kind_word(r.access) + "` ambiguous";
    if (enumval) return "enum value `" + without_kind_word(r.access) + "` ambiguous";
    return "type `" + r.access + "` ambiguous";
  }
  if (r.candidates == 0) return "type `" + root_of(r.access) + "` missing";
  if (field) return "field `" + without_kind_word(r.access) + "` missing";
  if (enumval) return "enum value `" + without_kind_word(r.access) + "` missing";
  return "type `" + r.access + "` does not match";
}

// The function an instruction lies in: an entry program or a .text subprogram.
const Program* function_at(const ObjectPrograms& p, const std::string& section, uint32_t insn) {
  if (const Program* prog = program_at(p, section, insn)) return prog;
  for (const Program& sub : p.subprograms)
    if (sub.section == section && insn >= sub.first_insn && insn < sub.end_insn) return &sub;
  return nullptr;
}

Cell check_object(const btfd::btf::KernelBtf& kernel, Verifier verifier, const Object& obj) {
  Cell cell;
  cell.program_verdicts.assign(obj.programs.programs.size(), Verdict::loads);
  btfd::btf::ObjectInput in{obj.name, obj.bytes};
  btfd::btf::MinimizeOptions opts;
  opts.emit = false;
  opts.report_ambiguity = true;
  opts.budget = btfd::btf::MinimizeBudget::local();  // the user's own objects, on the user's machine
  auto res = btfd::btf::minimize(kernel, std::span(&in, 1), opts);
  if (!res) {
    cell.error = res.error().message;
    cell.program_verdicts.assign(cell.program_verdicts.size(), Verdict::fails);
    return cell;
  }
  cell.relocations = static_cast<uint32_t>(res->relocs.size());
  for (const RelocReport& r : res->relocs) {
    if (r.skipped || (r.matches > 0 && r.ambiguity.empty())) continue;
    Outcome o = !r.ambiguity.empty()             ? Outcome::ambiguous
                : resolves_when_absent(r.kind) ? Outcome::absent
                                               : Outcome::fails;
    const Program* prog = program_at(obj.programs, r.section, r.insn);
    cell.issues.push_back(Issue{prog ? prog->name : "", r.section, r.index, r.insn, r.kind, r.access, r.local_spec,
                                o, r.candidates, reason_for(r, o), r.ambiguity, std::nullopt});
  }
  // Only a poisoned relocation needs the control flow, and with it every
  // relocated instruction: most objects resolve everywhere and skip this.
  if (std::any_of(cell.issues.begin(), cell.issues.end(), [](const Issue& i) { return i.outcome == Outcome::fails; })) {
    std::vector<RelocSite> sites;
    sites.reserve(res->relocs.size());
    for (const RelocReport& r : res->relocs) {
      // Every relocated instruction, TYPE_ID_LOCAL's too (libbpf may renumber
      // the object's types): what is patched in is not taken from the literal.
      RelocSite site{r.section, r.index, r.insn, "", "", "", -1};
      if (is_existence_kind(r.kind) && r.ambiguity.empty()) {
        site.kind = r.kind;
        site.access = r.access;
        site.local_spec = r.local_spec;
        site.value = r.matches > 0 ? 1 : 0;
      }
      sites.push_back(std::move(site));
    }
    find_guards(obj.programs, sites, verifier, cell.issues);
  }
  for (const Issue& issue : cell.issues) {
    if (issue.outcome == Outcome::absent) continue;
    Verdict v = issue.blocks_load() ? Verdict::fails : Verdict::loads_guarded;
    for (size_t i = 0; i < obj.programs.programs.size(); ++i) {
      // A subprogram's relocation reaches every program that calls it; calls
      // are not followed, so it counts against all of them.
      if (issue.program.empty() || obj.programs.programs[i].name == issue.program)
        cell.program_verdicts[i] = worse(cell.program_verdicts[i], v);
    }
  }
  return cell;
}

}  // namespace

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::absent: return "absent";
    case Outcome::fails: return "fails";
    case Outcome::ambiguous: return "ambiguous";
  }
  return "?";
}

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::loads: return "loads";
    case Verdict::loads_guarded: return "loads_guarded";
    case Verdict::fails: return "fails";
  }
  return "?";
}

const char* verdict_text(Verdict v) {
  return v == Verdict::loads_guarded ? "loads with guarded fallbacks" : verdict_name(v);
}

Verdict worse(Verdict a, Verdict b) { return static_cast<int>(a) > static_cast<int>(b) ? a : b; }

std::string Guard::text() const {
  // field_exists names the field as a field relocation's reason does; the
  // type kinds name the type with its kind word.
  std::string what = kind == "type_exists" || kind == "type_matches" ? access : without_kind_word(access);
  return kind + " `" + what + "`" + (value ? " = 1" : "");
}

Verdict Cell::verdict() const {
  if (!error.empty()) return Verdict::fails;
  Verdict v = Verdict::loads;
  for (const Issue& i : issues) {
    if (i.blocks_load()) return Verdict::fails;
    if (i.outcome == Outcome::fails) v = Verdict::loads_guarded;
  }
  return v;
}

bool is_existence_kind(const std::string& kind) {
  return kind == "field_exists" || kind == "type_exists" || kind == "type_matches" || kind == "enumval_exists";
}

void find_guards(const ObjectPrograms& programs, const std::vector<RelocSite>& relocs, Verifier verifier,
                 std::vector<Issue>& issues) {
  // The failing relocations by the function holding them, each function analyzed once.
  std::map<const Program*, std::vector<Issue*>> failing;
  for (Issue& f : issues)
    if (f.outcome == Outcome::fails)
      if (const Program* fn = function_at(programs, f.section, f.insn)) failing[fn].push_back(&f);
  if (failing.empty()) return;
  // The relocated instructions by section, in instruction order.
  std::map<std::string, std::vector<const RelocSite*>> by_section;
  for (const RelocSite& r : relocs) by_section[r.section].push_back(&r);
  for (auto& entry : by_section)
    std::stable_sort(entry.second.begin(), entry.second.end(),
                     [](const RelocSite* a, const RelocSite* b) { return a->insn < b->insn; });
  // A budget of instructions evaluated per object and kernel: functions that
  // overlap (a hostile symbol table) cannot multiply the cost. What it leaves
  // unanalyzed stays unguarded (counts as failing).
  size_t budget = kMaxFlowInsns * 32;
  for (auto& group : failing) {
    const Program* fn = group.first;
    const size_t size = fn->end_insn - fn->first_insn;
    if (size > budget) continue;
    std::vector<Insn> insns = decode_insns(code_of(programs, *fn), programs.big_endian);
    if (insns.size() != size) continue;
    FlowInput in;
    in.insns = insns;
    in.verifier = verifier;
    std::vector<const RelocSite*> checks;  // in.known_imm's relocations, for naming the guard
    if (auto sec = by_section.find(fn->section); sec != by_section.end()) {
      const auto& sites = sec->second;
      auto it = std::lower_bound(sites.begin(), sites.end(), fn->first_insn,
                                 [](const RelocSite* r, uint32_t insn) { return r->insn < insn; });
      for (; it != sites.end() && (*it)->insn < fn->end_insn; ++it) {
        const RelocSite& r = **it;
        uint32_t at = r.insn - fn->first_insn;
        if (r.value < 0) {
          in.unknown_imm.push_back(at);
        } else {
          in.known_imm.emplace_back(at, static_cast<uint64_t>(r.value));
          checks.push_back(&r);
        }
      }
    }
    Flow flow = analyze_flow(in);
    budget -= std::min(budget, std::max(flow.steps, size));
    if (!flow.complete) continue;
    for (Issue* f : group.second) {
      uint32_t at = f->insn - fn->first_insn;
      if (flow.reachable[at] || flow.cut_by[at] == Flow::kNoCut) continue;
      auto c = std::find_if(checks.begin(), checks.end(),
                            [&](const RelocSite* r) { return r->insn - fn->first_insn == flow.cut_by[at]; });
      if (c != checks.end())
        f->guard = Guard{(*c)->relo, (*c)->insn, (*c)->kind, (*c)->access, (*c)->local_spec,
                         static_cast<uint32_t>((*c)->value)};
    }
  }
}

btfd::Result<std::vector<Object>> load_objects(const std::vector<std::string>& paths, uint64_t max_bytes) {
  std::vector<Object> out;
  for (const std::string& path : paths) {
    Object o;
    o.path = path;
    std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
    for (const char* suffix : {".bpf.o", ".o"}) {
      std::string s = suffix;
      if (base.size() > s.size() && base.compare(base.size() - s.size(), s.size(), s) == 0) {
        base.resize(base.size() - s.size());
        break;
      }
    }
    o.name = base;
    BTFD_TRY(o.bytes, btfd::read_file(path, max_bytes));
    // The minimizer's parse gives the clearest error for a bad object: run it once here.
    btfd::btf::ObjectInput in{path, o.bytes};
    BTFD_TRY_VOID(btfd::btf::lookup_names(std::span(&in, 1), btfd::btf::MinimizeBudget::local()));
    BTFD_TRY(o.programs, list_programs(path, o.bytes));
    out.push_back(std::move(o));
  }
  return out;
}

btfd::Result<std::vector<KernelRow>> run_check(const CheckInput& in, const std::vector<Object>& objects) {
  BTFD_TRY(std::vector<ArchiveEntry> entries, list_archive(in.source, in.filter));
  std::vector<KernelRow> rows(entries.size());
  std::vector<btfd::btf::ObjectInput> inputs;
  for (const Object& o : objects) inputs.push_back({o.name, o.bytes});
  // Index only the names the objects look up: a kernel is parsed once for all of them.
  BTFD_TRY(btfd::btf::KernelBtf::NameFilter names, btfd::btf::lookup_names(inputs, btfd::btf::MinimizeBudget::local()));
  std::atomic<size_t> next{0};
  std::mutex progress_mu;
  size_t done = 0;
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < entries.size();) {
      KernelRow& row = rows[i];
      row.entry = entries[i];
      row.id = row.entry.distro + "/" + row.entry.version + "/" + row.entry.arch + "/" + row.entry.release;
      auto raw = read_archive_btf(in.source, row.entry, in.max_kernel_bytes);
      if (!raw) {
        row.error = raw.error().message;
      } else if (auto kernel = btfd::btf::KernelBtf::parse(std::move(raw).value(), &names); !kernel) {
        row.error = kernel.error().message;
      } else {
        Verifier verifier = verifier_for_release(row.entry.release);
        for (const Object& o : objects) row.cells.push_back(check_object(**kernel, verifier, o));
      }
      std::lock_guard lock(progress_mu);
      ++done;
      if (in.progress) in.progress(done, entries.size());
    }
  };
  unsigned n = std::max(1u, std::min<unsigned>(in.jobs, static_cast<unsigned>(entries.size())));
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < n; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  return rows;
}

}  // namespace btfctl::check
