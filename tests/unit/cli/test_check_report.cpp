// SPDX-License-Identifier: GPL-2.0-or-later
// btfctl check's report: kernels sharing a failure are grouped, counts, the
// summary line, and an HTML page that stays inert whatever a kernel or object
// is called (names come from a mirror and from the user's files).
#include <doctest/doctest.h>

#include <string>

#include "cli/check_report.hpp"

using namespace btfctl::check;

namespace {

Object object(const std::string& name, std::vector<std::string> programs) {
  Object o;
  o.name = name;
  o.path = name + ".bpf.o";
  uint32_t at = 0;
  for (auto& p : programs) {
    o.programs.programs.push_back({p, "kprobe/" + p, at, at + 10});
    at += 10;
  }
  return o;
}

Issue failing(const std::string& program, const std::string& reason, Outcome o = Outcome::fails) {
  Issue i;
  i.program = program;
  i.section = "kprobe/" + program;
  i.kind = o == Outcome::absent ? "field_exists" : "byte_off";
  i.access = "struct request.rq_disk";
  i.local_spec = "[7] struct request.rq_disk (0:3 @ offset 24)";
  i.outcome = o;
  i.reason = reason;
  return i;
}

KernelRow row(const std::string& id, std::vector<Cell> cells, std::string error = "") {
  KernelRow r;
  r.id = id;
  r.cells = std::move(cells);
  r.error = std::move(error);
  return r;
}

Cell cell(size_t programs, std::vector<Issue> issues = {}) {
  Cell c;
  c.program_loads.assign(programs, true);
  c.relocations = 3;
  c.issues = std::move(issues);
  for (const Issue& i : c.issues)
    if (i.outcome != Outcome::absent && i.program == "show") c.program_loads[1] = false;
  return c;
}

}  // namespace

TEST_CASE("kernels sharing a failure are one group; an unreadable kernel is not counted") {
  std::vector<Object> objs = {object("biotop", {"trace", "show"})};
  const std::string missing = "field `request.rq_disk` missing";
  std::vector<KernelRow> rows;
  rows.push_back(row("ubuntu/20.04/x86_64/5.4", {cell(2)}));
  rows.push_back(row("fedora/38/x86_64/6.2", {cell(2, {failing("show", missing)})}));
  rows.push_back(row("fedora/39/x86_64/6.5", {cell(2, {failing("show", missing), failing("show", missing)})}));
  rows.push_back(row("bad/1/x86_64/1", {}, "corrupt archive"));
  rows.push_back(row("debian/12/x86_64/6.1", {cell(2, {failing("trace", missing, Outcome::absent)})}));
  auto s = summarize(objs, rows);
  REQUIRE(s.size() == 1);
  CHECK(s[0].checked == 4);
  CHECK(s[0].loads == 2);
  REQUIRE(s[0].failures.size() == 1);
  CHECK(s[0].failures[0].reason == missing);
  CHECK(s[0].failures[0].kernels == std::vector<size_t>{1, 2});
  CHECK(s[0].failures[0].programs == std::vector<std::string>{"show"});
  Report r{"mirror/", objs, rows, s};
  auto lines = summary_lines(r);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "biotop: 2/4 kernels; field `request.rq_disk` missing on 2: fedora/38/x86_64/6.2, "
                    "fedora/39/x86_64/6.5 (show)");
  auto j = to_json(r);
  CHECK(j["kernel_errors"] == 1);
  CHECK(j["all_load"] == false);
  CHECK(j["objects"][0]["kernels_loading"] == 2);
  CHECK(j["kernels"][3]["error"] == "corrupt archive");
  CHECK(j["kernels"][1]["objects"][0]["programs"][1]["loads"] == false);
  CHECK(j["kernels"][4]["objects"][0]["unresolved"][0]["result"] == "absent");
  CHECK(j["kernels"][4]["objects"][0]["loads"] == true);
}

TEST_CASE("a long list of kernels is cut in the summary line") {
  std::vector<Object> objs = {object("x", {"p", "show"})};
  std::vector<KernelRow> rows;
  for (int i = 0; i < 9; ++i) rows.push_back(row("k/" + std::to_string(i), {cell(2, {failing("show", "type `struct a` missing")})}));
  Report r{"m", objs, rows, summarize(objs, rows)};
  auto line = summary_lines(r).at(0);
  CHECK(line.find("x: 0/9 kernels; type `struct a` missing on 9: k/0, k/1") == 0);
  CHECK(line.find(" and 3 more (show)") != std::string::npos);
}

TEST_CASE("the HTML escapes every name and loads nothing") {
  std::vector<Object> objs = {object("<img src=x>", {"<script>alert(1)</script>", "show"})};
  std::vector<KernelRow> rows;
  rows.push_back(row("a/\"b\"/x86_64/<i>'", {cell(2, {failing("show", "field `<b>&` missing")})}));
  rows.push_back(row("bad/<script>/1/2", {}, "error with <tags> & \"quotes\""));
  Report r{"http://mirror/<x>", objs, rows, summarize(objs, rows)};
  std::string h = to_html(r);
  CHECK(h.find("<script") == std::string::npos);
  CHECK(h.find("<img") == std::string::npos);
  CHECK(h.find("<i>") == std::string::npos);
  CHECK(h.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(h.find("data-kernel=\"a/&quot;b&quot;/x86_64/&lt;i&gt;&#39;\"") != std::string::npos);
  CHECK(h.find("error with &lt;tags&gt; &amp; &quot;quotes&quot;") != std::string::npos);
  CHECK(h.find("field `&lt;b&gt;&amp;` missing") != std::string::npos);
  CHECK(h.find("&lt;img src=x&gt;") != std::string::npos);  // the object's name, as text
  CHECK(h.find(" href=") == std::string::npos);
  // Bytes that are not UTF-8 (a release name is any bytes) come out valid.
  rows[0].id = std::string("k/\xff\xfe");
  std::string h2 = to_html(Report{"m", objs, rows, summarize(objs, rows)});
  CHECK(h2.find('\xff') == std::string::npos);
  CHECK_NOTHROW(to_json(Report{"m", objs, rows, summarize(objs, rows)}).dump());
}
