// SPDX-License-Identifier: GPL-2.0-or-later
// The HTML report of `btfctl check`: one file, no external assets, no script
// (inline CSS; a failing cell opens with <details>, its reasons also sit in a
// tooltip), a kernels x programs matrix under the summary.
#include <string>

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
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #bbb;padding:3px 6px;vertical-align:top}
thead th{background:#eee;position:sticky;top:0}
tbody th{text-align:left;font-weight:normal;font-family:monospace;white-space:nowrap}
td.ok{background:#d7f5d7;text-align:center}
td.fail{background:#f8d0d0}
td.err{background:#f3e3b5}
details summary{cursor:pointer;font-weight:bold}
details ul{margin:.3em 0 0 1em;padding:0;font-family:monospace;font-size:12px}
code{background:#f4f4f4}
.note{color:#666})";

// One relocation, as its row in a cell's details and its tooltip line.
std::string issue_text(const Issue& i) {
  return i.section + " relo #" + std::to_string(i.relo) + " <" + i.kind + "> " + i.reason + ": " + i.local_spec +
         " (" + std::to_string(i.candidates) + " candidates)" + (i.detail.empty() ? "" : ": " + i.detail);
}

std::string cell_html(const Object& obj, const Cell& cell, size_t prog) {
  // The program's own issues plus the subprogram ones that count against it.
  const std::string* name = prog < obj.programs.programs.size() ? &obj.programs.programs[prog].name : nullptr;
  std::string failing, absent, reasons;
  size_t n_absent = 0;
  for (const Issue& i : cell.issues) {
    if (name && !i.program.empty() && i.program != *name) continue;
    std::string li = "<li>" + esc(issue_text(i)) + "</li>";
    if (i.outcome == Outcome::absent) {
      absent += li;
      ++n_absent;
    } else {
      failing += li;
      if (reasons.find(i.reason) == std::string::npos) reasons += (reasons.empty() ? "" : "; ") + i.reason;
    }
  }
  bool loads = name ? bool(cell.program_loads[prog]) : cell.loads();
  if (!cell.error.empty())
    return "<td class=\"fail\" title=\"" + esc(cell.error) + "\"><details><summary>error</summary><ul><li>" +
           esc(cell.error) + "</li></ul></details></td>";
  if (loads) {
    std::string title = "the object's " + std::to_string(cell.relocations) + " relocations";
    if (!n_absent) return "<td class=\"ok\" title=\"" + title + " resolve\">ok</td>";
    return "<td class=\"ok\" title=\"" + title + ", " + std::to_string(n_absent) +
           " resolve as absent (0)\"><details><summary>ok</summary><ul>" + absent + "</ul></details></td>";
  }
  return "<td class=\"fail\" title=\"" + esc(reasons) + "\"><details><summary>fails</summary><ul>" + failing + absent +
         "</ul></details></td>";
}

}  // namespace

std::string to_html(const Report& r) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>btfctl check: " +
                  esc(r.source) + "</title>\n<style>\n" + kStyle + "\n</style>\n</head>\n<body>\n";
  h += "<h1>CO-RE compatibility</h1>\n<p>Source <code>" + esc(r.source) + "</code>: " +
       std::to_string(r.rows.size()) + " kernels, " + std::to_string(r.objects.size()) + " objects.</p>\n";
  h += "<h2>Summary</h2>\n<ul>\n";
  for (const std::string& line : summary_lines(r)) h += "<li>" + esc(line) + "</li>\n";
  h += "</ul>\n<p class=\"note\">A failing relocation poisons its instruction: the verifier rejects the program "
       "unless that instruction is unreachable. Relocations that resolve to 0 when their target is absent "
       "(field/type/enum value exists, type matches, type size, target type id) do not fail.</p>\n";
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
  for (const KernelRow& row : r.rows) {
    h += "<tr data-kernel=\"" + esc(row.id) + "\"><th scope=\"row\">" + esc(row.id) + "</th>";
    if (!row.error.empty() || row.cells.size() != r.objects.size()) {
      h += "<td class=\"err\" colspan=\"" + std::to_string(columns) + "\">cannot be read: " + esc(row.error) + "</td>";
    } else {
      for (size_t o = 0; o < r.objects.size(); ++o) {
        size_t n = r.objects[o].programs.programs.size();
        if (!n) h += cell_html(r.objects[o], row.cells[o], SIZE_MAX);
        for (size_t p = 0; p < n; ++p) h += cell_html(r.objects[o], row.cells[o], p);
      }
    }
    h += "</tr>\n";
  }
  h += "</tbody>\n</table>\n</body>\n</html>\n";
  return h;
}

}  // namespace btfctl::check
