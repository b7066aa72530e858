// SPDX-License-Identifier: GPL-2.0-or-later
// The HTML report of `btfctl check`: one file, no external assets, no script
// (inline CSS), a kernels x programs matrix under the summary whose kernel
// column and header stay in view (position: sticky). A cell that fails or
// falls back under a guard links to numbered notes below the matrix: a
// relocation is described once however many kernels and programs it affects
// (58 objects x 85 kernels made 4.6 MB when each cell carried its texts).
#include <map>
#include <string>
#include <vector>

#include "btf/utf8.hpp"
#include "cli/check_report.hpp"

namespace btfctl::check {
namespace {

std::string esc(const std::string& raw) {
  std::string s = btfd::btf::valid_utf8(raw), out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

constexpr const char* kStyle = R"(body{font-family:sans-serif;margin:1.5em;color:#222}
table{border-collapse:separate;border-spacing:0;font-size:13px}
th,td{border:1px solid #bbb;padding:3px 6px;vertical-align:top}
thead th{background:#eee;position:sticky;top:0;z-index:2}
tbody th{text-align:left;font-weight:normal;font-family:monospace;white-space:nowrap;background:#fff;position:sticky;left:0;z-index:1}
thead tr:first-child th:first-child{left:0;z-index:3}
td.ok{background:#d7f5d7;text-align:center}
td.guarded{background:#fbeaa0;text-align:center}
td.fail{background:#f8d0d0}
td.err{background:#f3e3b5}
td a{font-size:11px;color:#124}
table.notes td,table.notes th{font-size:12px}
table.notes tbody th{position:static}
code{background:#f4f4f4;font-size:12px}
.note{color:#666})";

// Text whose `quoted` parts (names in reasons and guards) become <code>.
std::string with_code(const std::string& raw) {
  std::string out;
  bool in = false;
  size_t from = 0;
  for (size_t at; (at = raw.find('`', from)) != std::string::npos; from = at + 1) {
    out += esc(raw.substr(from, at - from)) + (in ? "</code>" : "<code>");
    in = !in;
  }
  out += esc(raw.substr(from));
  return in ? out + "</code>" : out;
}

// One relocation's note: every cell where it fails (or falls back) links to
// it, so a relocation failing on 85 kernels is described once, not 85 times.
// Kernel-specific numbers (candidates) stay out of it; an ambiguity's detail,
// with the kernel's type ids, is part of it (--json has everything per cell).
std::string note_html(const Object& obj, const Issue& i) {
  std::string h = "<td>" + esc(obj.name) + "</td><td><code>" + esc(i.section) + "</code> relo #" +
                  std::to_string(i.relo) + " &lt;" + esc(i.kind) + "&gt;</td><td>" + with_code(i.reason);
  if (i.outcome == Outcome::ambiguous) h += " (libbpf fails the load)";
  h += ": <code>" + esc(i.local_spec) + "</code>";
  if (!i.detail.empty()) h += ": " + esc(i.detail);
  if (i.guard)
    h += "; guarded by " + with_code(i.guard->text()) + " (relo #" + std::to_string(i.guard->relo) +
         ", resolves to 0): libbpf's poisoned instruction is dead code";
  return h + "</td>";
}

class Notes {
 public:
  // The note's number, made on first use.
  size_t ref(const std::string& key, const std::string& row_html) {
    auto [it, added] = index_.try_emplace(key, rows_.size() + 1);
    if (added) rows_.push_back(row_html);
    return it->second;
  }
  std::string table() const {
    if (rows_.empty()) return "";
    std::string h = "<h2>Notes</h2>\n<table class=\"notes\">\n<thead><tr><th>#</th><th>object</th><th>relocation</th>"
                     "<th>what libbpf finds</th></tr></thead>\n<tbody>\n";
    for (size_t n = 0; n < rows_.size(); ++n)
      h += "<tr id=\"n" + std::to_string(n + 1) + "\"><th>" + std::to_string(n + 1) + "</th>" + rows_[n] + "</tr>\n";
    return h + "</tbody>\n</table>\n";
  }

 private:
  std::map<std::string, size_t> index_;
  std::vector<std::string> rows_;
};

std::string link(size_t n) {
  std::string id = std::to_string(n);
  return " <a href=\"#n" + id + "\">" + id + "</a>";
}

std::string cell_html(const Object& obj, const Cell& cell, size_t prog, Notes& notes) {
  if (!cell.error.empty()) {
    size_t n = notes.ref(obj.name + "\n" + cell.error,
                         "<td>" + esc(obj.name) + "</td><td>(object)</td><td>cannot be relocated: " + esc(cell.error) + "</td>");
    return "<td class=\"fail\">error" + link(n) + "</td>";
  }
  // The program's own issues plus the subprogram ones that count against it.
  const std::string* name = prog < obj.programs.programs.size() ? &obj.programs.programs[prog].name : nullptr;
  Verdict v = name ? cell.program_verdicts[prog] : cell.verdict();
  if (v == Verdict::loads) return "<td class=\"ok\">ok</td>";
  std::string links;
  for (const Issue& i : cell.issues) {
    if (i.outcome == Outcome::absent || (name && !i.program.empty() && i.program != *name)) continue;
    // A guarded cell lists its guarded fallbacks; a failing one what fails it.
    if (v == Verdict::fails && !i.blocks_load()) continue;
    std::string row = note_html(obj, i);
    links += link(notes.ref(obj.name + "\n" + row, row));
  }
  return v == Verdict::fails ? "<td class=\"fail\">fails" + links + "</td>"
                             : "<td class=\"guarded\">guarded" + links + "</td>";
}

}  // namespace

std::string to_html(const Report& r) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>btfctl check: " +
                  esc(r.source) + "</title>\n<style>\n" + kStyle + "\n</style>\n</head>\n<body>\n";
  h += "<h1>CO-RE compatibility</h1>\n<p>Source <code>" + esc(r.source) + "</code>: " +
       std::to_string(r.rows.size()) + " kernels, " + std::to_string(r.objects.size()) + " objects.</p>\n";
  h += "<h2>Summary</h2>\n<ul>\n";
  for (const std::string& line : summary_lines(r)) h += "<li>" + with_code(line) + "</li>\n";
  h += "</ul>\n<p class=\"note\">Cells: <b>ok</b> (green) every relocation resolves; "
       "<b>guarded</b> (yellow) loads with guarded fallbacks: each failing relocation's instruction is dead code on "
       "that kernel, as the verifier finds it: the existence checks' values there (field, type or enum value "
       "exists, type matches: 0 or 1) decide the function's jumps, and no path reaches it; the note names the check "
       "(\"= 1\": the read is the fallback of a check that holds); <b>fails</b> (red) a failing relocation some "
       "path reaches, an ambiguity or an object that cannot be relocated. The numbers link to the notes below. "
       "Values the analysis does not follow (the stack, calls) count as unknown, so it errs towards fails "
       "(btfctl(1), CHECK REPORT). Relocations that "
       "resolve to 0 when their target is absent (field/type/enum value exists, type matches, type size, target "
       "type id) do not fail; --json lists them.</p>\n";
  // Header: objects over their programs (an object without programs gets one column).
  std::string top = "<tr><th rowspan=\"2\">kernel</th>", sub = "<tr>";
  for (const Object& o : r.objects) {
    size_t n = o.programs.programs.size();
    top += "<th colspan=\"" + std::to_string(n ? n : 1) + "\">" + esc(o.name) + "</th>";
    if (!n) sub += "<th data-program=\"" + esc(o.name + "/") + "\">(object)</th>";
    for (const Program& p : o.programs.programs)
      sub += "<th data-program=\"" + esc(o.name + "/" + p.name) + "\" title=\"" + esc(p.section) + "\">" + esc(p.name) +
             "</th>";
  }
  h += "<h2>Kernels &times; programs</h2>\n<table>\n<thead>\n" + top + "</tr>\n" + sub + "</tr>\n</thead>\n<tbody>\n";
  size_t columns = 0;
  for (const Object& o : r.objects) columns += o.programs.programs.empty() ? 1 : o.programs.programs.size();
  Notes notes;
  for (const KernelRow& row : r.rows) {
    h += "<tr data-kernel=\"" + esc(row.id) + "\"><th scope=\"row\">" + esc(row.id) + "</th>";
    if (!row.error.empty() || row.cells.size() != r.objects.size()) {
      h += "<td class=\"err\" colspan=\"" + std::to_string(columns) + "\">cannot be read: " + esc(row.error) + "</td>";
    } else {
      for (size_t o = 0; o < r.objects.size(); ++o) {
        size_t n = r.objects[o].programs.programs.size();
        if (!n) h += cell_html(r.objects[o], row.cells[o], SIZE_MAX, notes);
        for (size_t p = 0; p < n; ++p) h += cell_html(r.objects[o], row.cells[o], p, notes);
      }
    }
    h += "</tr>\n";
  }
  h += "</tbody>\n</table>\n" + notes.table() + "</body>\n</html>\n";
  return h;
}

}  // namespace btfctl::check
