// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/check_run.hpp"

#include <linux/bpf.h>

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

std::string reason_for(const RelocReport& r, Outcome o) {
  bool field = r.kind == "byte_off" || r.kind == "byte_sz" || r.kind == "field_exists" || r.kind == "signed" ||
               r.kind == "lshift_u64" || r.kind == "rshift_u64";
  bool enumval = r.kind.rfind("enumval", 0) == 0;
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

Cell check_object(const btfd::btf::KernelBtf& kernel, const Object& obj) {
  Cell cell;
  cell.program_loads.assign(obj.programs.programs.size(), true);
  btfd::btf::ObjectInput in{obj.name, obj.bytes};
  btfd::btf::MinimizeOptions opts;
  opts.emit = false;
  opts.report_ambiguity = true;
  auto res = btfd::btf::minimize(kernel, std::span(&in, 1), opts);
  if (!res) {
    cell.error = res.error().message;
    cell.program_loads.assign(cell.program_loads.size(), false);
    return cell;
  }
  cell.relocations = static_cast<uint32_t>(res->relocs.size());
  for (const RelocReport& r : res->relocs) {
    if (r.skipped || (r.matches > 0 && r.ambiguity.empty())) continue;
    Outcome o = !r.ambiguity.empty()             ? Outcome::ambiguous
                : resolves_when_absent(r.kind) ? Outcome::absent
                                               : Outcome::fails;
    const Program* prog = program_at(obj.programs, r.section, r.insn);
    Issue issue{prog ? prog->name : "", r.section, r.index, r.insn, r.kind, r.access, r.local_spec, o,
                r.candidates, reason_for(r, o), r.ambiguity};
    if (o != Outcome::absent) {
      for (size_t i = 0; i < obj.programs.programs.size(); ++i) {
        // A subprogram's relocation reaches every program that calls it; calls
        // are not followed, so it counts against all of them.
        if (!prog || &obj.programs.programs[i] == prog) cell.program_loads[i] = false;
      }
    }
    cell.issues.push_back(std::move(issue));
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

bool Cell::loads() const {
  if (!error.empty()) return false;
  for (const Issue& i : issues)
    if (i.outcome != Outcome::absent) return false;
  return true;
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
    BTFD_TRY_VOID(btfd::btf::lookup_names(std::span(&in, 1)));
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
  BTFD_TRY(btfd::btf::KernelBtf::NameFilter names, btfd::btf::lookup_names(inputs));
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
        for (const Object& o : objects) row.cells.push_back(check_object(**kernel, o));
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
