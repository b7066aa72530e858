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
  c.program_verdicts.assign(programs, Verdict::loads);
  c.relocations = 3;
  c.issues = std::move(issues);
  for (const Issue& i : c.issues)
    if (i.outcome != Outcome::absent && i.program == "show")
      c.program_verdicts[1] = worse(c.program_verdicts[1], i.blocks_load() ? Verdict::fails : Verdict::loads_guarded);
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
  CHECK(h.find("field <code>&lt;b&gt;&amp;</code> missing") != std::string::npos);
  CHECK(h.find("&lt;img src=x&gt;") != std::string::npos);  // the object's name, as text
  // The only links are to the page's own notes.
  for (size_t at = 0; (at = h.find(" href=", at)) != std::string::npos; ++at) CHECK(h.compare(at, 9, " href=\"#n") == 0);
  // Bytes that are not UTF-8 (a release name is any bytes) come out valid.
  rows[0].id = std::string("k/\xff\xfe");
  std::string h2 = to_html(Report{"m", objs, rows, summarize(objs, rows)});
  CHECK(h2.find('\xff') == std::string::npos);
  CHECK_NOTHROW(to_json(Report{"m", objs, rows, summarize(objs, rows)}).dump());
}

namespace {

Issue reloc(const std::string& program, uint32_t insn, const std::string& kind, const std::string& spec, Outcome o) {
  Issue i;
  i.program = program;
  i.section = "kprobe/" + program;
  i.insn = insn;
  i.kind = kind;
  i.local_spec = spec;
  i.access = spec.substr(spec.find(' ') + 1, spec.find(" (") == std::string::npos ? std::string::npos
                                                                                  : spec.find(" (") - spec.find(' ') - 1);
  i.outcome = o;
  return i;
}

}  // namespace

TEST_CASE("a failing read is guarded by an absent existence check of the same thing in the same program") {
  Object obj = object("biotop", {"trace", "show"});  // trace: insns [0, 10), show: [10, 20)
  const std::string rq_disk = "[14] struct request___x.rq_disk (0:1 @ offset 8)";
  SUBCASE("field_exists of the same field, and of a missing containing field") {
    std::vector<Issue> is = {reloc("trace", 1, "field_exists", rq_disk, Outcome::absent),
                             reloc("trace", 3, "byte_off", rq_disk, Outcome::fails),
                             reloc("trace", 5, "byte_off", "[14] struct request___x.rq_disk.x (0:1:2 @ offset 8)", Outcome::fails)};
    find_guards(obj.programs, is);
    REQUIRE(is[1].guard);
    CHECK(is[1].guard->kind == "field_exists");
    CHECK(is[1].guard->text() == "field_exists `request___x.rq_disk`");
    CHECK(is[2].guard);
    CHECK(!is[1].blocks_load());
  }
  SUBCASE("type_exists and type_matches on the root type; enumval_exists of the same value") {
    std::vector<Issue> is = {reloc("trace", 1, "type_exists", "[14] struct request___x", Outcome::absent),
                             reloc("trace", 3, "byte_off", rq_disk, Outcome::fails),
                             reloc("show", 11, "type_matches", "[9] enum e___x", Outcome::absent),
                             reloc("show", 12, "enumval_value", "[9] enum e___x::A", Outcome::fails),
                             reloc("show", 13, "enumval_exists", "[8] enum f___x::B", Outcome::absent),
                             reloc("show", 14, "enumval_value", "[8] enum f___x::B", Outcome::fails)};
    find_guards(obj.programs, is);
    CHECK((is[1].guard && is[1].guard->kind == "type_exists"));
    CHECK((is[3].guard && is[3].guard->kind == "type_matches"));
    CHECK((is[5].guard && is[5].guard->kind == "enumval_exists"));
  }
  SUBCASE("not guarded: another program, another field, a check that resolved, an ambiguity, a longer guard") {
    std::vector<Issue> is = {reloc("show", 11, "field_exists", rq_disk, Outcome::absent),
                             reloc("trace", 3, "byte_off", rq_disk, Outcome::fails),
                             reloc("trace", 4, "field_exists", "[14] struct request___x.q (0:0 @ offset 0)", Outcome::absent),
                             reloc("trace", 5, "byte_off", "[16] struct request_queue___x.disk (0:0 @ offset 0)", Outcome::fails),
                             reloc("trace", 6, "byte_off", rq_disk, Outcome::ambiguous),
                             reloc("trace", 7, "field_exists", "[15] struct s.a.b (0:0:1 @ offset 0)", Outcome::absent),
                             reloc("trace", 8, "byte_off", "[15] struct s.a (0:0 @ offset 0)", Outcome::fails),
                             reloc("trace", 9, "field_exists", "[15] struct s.c (0:3 @ offset 0)", Outcome::absent),
                             reloc("trace", 9, "byte_off", "[15] struct s.a (0:0 @ offset 0)", Outcome::fails)};
    // The same kinds in a kernel where rq_disk exists: a resolved check is not in the issues at all.
    find_guards(obj.programs, is);
    CHECK(!is[1].guard);  // its check is in `show`
    CHECK(!is[3].guard);  // request_queue___x is not request___x
    CHECK(!is[4].guard);
    CHECK(is[4].blocks_load());
    CHECK(!is[6].guard);  // s.a.b missing says nothing of s.a
    CHECK(!is[8].guard);  // s.c is another field
  }
  SUBCASE("a cell's verdicts") {
    std::vector<Issue> is = {reloc("show", 11, "field_exists", rq_disk, Outcome::absent),
                             reloc("show", 13, "byte_off", rq_disk, Outcome::fails)};
    find_guards(obj.programs, is);
    Cell c = cell(2, is);
    CHECK(c.program_verdicts == std::vector<Verdict>{Verdict::loads, Verdict::loads_guarded});
    CHECK(c.verdict() == Verdict::loads_guarded);
    CHECK(c.loads());
    std::vector<KernelRow> rows;
    rows.push_back(row("k/1", {c}));
    rows.push_back(row("k/2", {cell(2, {reloc("show", 13, "byte_off", rq_disk, Outcome::fails)})}));
    rows[1].cells[0].issues[0].reason = "field `request___x.rq_disk` missing";
    rows[0].cells[0].issues[1].reason = "field `request___x.rq_disk` missing";
    std::vector<Object> objs = {obj};
    Report r{"m", objs, rows, summarize(objs, rows)};
    CHECK(r.summary[0].loads == 1);
    CHECK(r.summary[0].guarded == 1);
    REQUIRE(r.summary[0].guarded_fallbacks.size() == 1);
    CHECK(r.summary[0].guarded_fallbacks[0].guard == "field_exists `request___x.rq_disk`");
    CHECK(summary_lines(r)[0] ==
          "biotop: 1/2 kernels, 1 with guarded fallbacks; field `request___x.rq_disk` missing on 1: k/2 (show); "
          "guarded: field `request___x.rq_disk` missing, under field_exists `request___x.rq_disk`, on 1: k/1 (show)");
    auto j = to_json(r);
    CHECK(j["kernels"][0]["objects"][0]["verdict"] == "loads_guarded");
    CHECK(j["kernels"][0]["objects"][0]["programs"][1]["verdict"] == "loads_guarded");
    CHECK(j["kernels"][0]["objects"][0]["programs"][1]["loads"] == true);
    CHECK(j["kernels"][0]["objects"][0]["unresolved"][1]["guard"]["kind"] == "field_exists");
    CHECK(j["kernels"][1]["objects"][0]["unresolved"][0]["guard"].is_null());
    CHECK(j["objects"][0]["kernels_loading_guarded"] == 1);
    std::string h = to_html(r);
    CHECK(h.find("<td class=\"guarded\">guarded <a href=\"#n") != std::string::npos);
    CHECK(h.find("<td class=\"fail\">fails <a href=\"#n") != std::string::npos);
  }
}
