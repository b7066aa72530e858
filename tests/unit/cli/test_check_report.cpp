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
  i.relo = insn;
  i.kind = kind;
  i.local_spec = spec;
  i.access = spec.substr(spec.find(' ') + 1, spec.find(" (") == std::string::npos ? std::string::npos
                                                                                  : spec.find(" (") - spec.find(' ') - 1);
  i.outcome = o;
  return i;
}

// The relocated instructions of an object on one kernel: the issues' (an
// absent check is 0) and the checks that resolved (1, not issues).
std::vector<RelocSite> sites(const std::vector<Issue>& issues, const std::vector<Issue>& present_checks) {
  std::vector<RelocSite> out;
  for (const Issue& i : issues) {
    RelocSite r{i.section, i.relo, i.insn, "", "", "", -1};
    if (is_existence_kind(i.kind) && i.outcome == Outcome::absent) r = {i.section, i.relo, i.insn, i.kind, i.access, i.local_spec, 0};
    out.push_back(r);
  }
  for (const Issue& i : present_checks) out.push_back({i.section, i.relo, i.insn, i.kind, i.access, i.local_spec, 1});
  return out;
}

// Little-endian instruction bytes: code, dst | src << 4, off, imm.
void put(std::vector<uint8_t>& out, uint8_t code, uint8_t dst, int16_t off, int32_t imm) {
  auto o = static_cast<uint16_t>(off);
  auto m = static_cast<uint32_t>(imm);
  out.insert(out.end(), {code, dst, static_cast<uint8_t>(o), static_cast<uint8_t>(o >> 8), static_cast<uint8_t>(m),
                         static_cast<uint8_t>(m >> 8), static_cast<uint8_t>(m >> 16), static_cast<uint8_t>(m >> 24)});
}
void mov(std::vector<uint8_t>& c, uint8_t r, int32_t imm) { put(c, 0xb7, r, 0, imm); }
void jeq0(std::vector<uint8_t>& c, uint8_t r, int16_t off) { put(c, 0x15, r, off, 0); }
void ja(std::vector<uint8_t>& c, int16_t off) { put(c, 0x05, 0, off, 0); }
void exit_(std::vector<uint8_t>& c) { put(c, 0x95, 0, 0, 0); }

// core_fixes' get_disk() as clang emits it, at `at` in its function:
//   at+0 r1 = field_exists(rq_disk); at+1 if r1 == 0 goto at+4; at+2 r2 = offset(rq_disk); at+3 goto at+5;
//   at+4 r2 = offset(q->disk); at+5 r0 = 0; at+6 exit; padded with exits to 10 instructions.
std::vector<uint8_t> get_disk() {
  std::vector<uint8_t> c;
  mov(c, 1, 1);
  jeq0(c, 1, 2);
  mov(c, 2, 8);
  ja(c, 1);
  mov(c, 2, 0);
  mov(c, 0, 0);
  while (c.size() < 80) exit_(c);
  return c;
}
// The read first, then a check guarding another store: r2 = offset; r1 = check; if r1 == 0 goto +1; r3 = 1; exit
std::vector<uint8_t> read_before_check() {
  std::vector<uint8_t> c;
  mov(c, 2, 8);
  mov(c, 1, 1);
  jeq0(c, 1, 1);
  mov(c, 3, 1);
  while (c.size() < 80) exit_(c);
  return c;
}

}  // namespace

TEST_CASE("find_guards: a poisoned read is guarded when the checks' values make it unreachable") {
  Object obj = object("biotop", {"trace", "show"});  // trace: insns [0, 10) of kprobe/trace, show: [10, 20) of kprobe/show
  std::vector<uint8_t> show(80, 0);  // show's section: 10 instructions before it, then get_disk()
  auto g = get_disk();
  show.insert(show.end(), g.begin(), g.end());
  obj.programs.code = {{"kprobe/trace", get_disk()}, {"kprobe/show", show}};
  const std::string rq_disk = "[14] struct request___x.rq_disk (0:1 @ offset 8)";
  const std::string q_disk = "[16] struct request_queue___x.disk (0:0 @ offset 0)";
  SUBCASE("an absent check guards its branch") {
    std::vector<Issue> is = {reloc("trace", 0, "field_exists", rq_disk, Outcome::absent),
                             reloc("trace", 2, "byte_off", rq_disk, Outcome::fails)};
    find_guards(obj.programs, sites(is, {}), Verifier::full, is);
    REQUIRE(is[1].guard);
    CHECK(is[1].guard->kind == "field_exists");
    CHECK(is[1].guard->insn == 0);
    CHECK(is[1].guard->value == 0);
    CHECK(is[1].guard->text() == "field_exists `request___x.rq_disk`");
    CHECK(!is[1].blocks_load());
  }
  SUBCASE("a present check guards the else branch: the fallback of get_disk()") {
    Issue check = reloc("trace", 0, "field_exists", rq_disk, Outcome::absent);
    std::vector<Issue> is = {reloc("trace", 4, "byte_off", q_disk, Outcome::fails)};
    find_guards(obj.programs, sites(is, {check}), Verifier::full, is);
    REQUIRE(is[0].guard);
    CHECK(is[0].guard->value == 1);
    CHECK(is[0].guard->access == "struct request___x.rq_disk");
    CHECK(is[0].guard->text() == "field_exists `request___x.rq_disk` = 1");
    // A verifier before 4.20 walks both branches of `if (1 == 0)`.
    std::vector<Issue> old = {reloc("trace", 4, "byte_off", q_disk, Outcome::fails)};
    find_guards(obj.programs, sites(old, {check}), Verifier::eq_only, old);
    CHECK(!old[0].guard);
  }
  SUBCASE("not guarded: the branch a check takes, a check in another function, an ambiguity") {
    Issue present = reloc("trace", 0, "field_exists", rq_disk, Outcome::absent);
    std::vector<Issue> is = {reloc("trace", 2, "byte_off", rq_disk, Outcome::fails),  // under the present check
                             reloc("show", 10, "field_exists", rq_disk, Outcome::absent),
                             reloc("trace", 4, "byte_off", q_disk, Outcome::ambiguous)};
    find_guards(obj.programs, sites(is, {present}), Verifier::full, is);
    CHECK(!is[0].guard);
    CHECK(is[0].blocks_load());
    CHECK(is[2].blocks_load());
    // The absent check in `show` says nothing of `trace`'s reads.
    std::vector<Issue> other = {reloc("show", 10, "field_exists", rq_disk, Outcome::absent),
                                reloc("trace", 2, "byte_off", rq_disk, Outcome::fails)};
    find_guards(obj.programs, sites(other, {}), Verifier::full, other);
    CHECK(!other[1].guard);
  }
  SUBCASE("a read before its check is reached, though the check is about it and absent") {
    obj.programs.code[0].bytes = read_before_check();
    std::vector<Issue> is = {reloc("trace", 1, "field_exists", rq_disk, Outcome::absent),
                             reloc("trace", 0, "byte_off", rq_disk, Outcome::fails)};
    find_guards(obj.programs, sites(is, {}), Verifier::full, is);
    CHECK(!is[1].guard);
  }
  SUBCASE("a subprogram in .text is analyzed from its own entry; no function, no guard") {
    obj.programs.subprograms = {{"get_disk", ".text", 10, 20}};
    obj.programs.code.push_back({".text", show});  // the same bytes: get_disk() at [10, 20)
    Issue check = reloc("trace", 10, "field_exists", rq_disk, Outcome::absent);
    check.section = ".text";
    Issue read = reloc("", 12, "byte_off", rq_disk, Outcome::fails);
    read.section = ".text";
    std::vector<Issue> is = {check, read};
    find_guards(obj.programs, sites(is, {}), Verifier::full, is);
    CHECK((is[1].guard && is[1].guard->insn == 10));
    // Outside every function (a stripped object): never guarded.
    Issue lost = read;
    lost.insn = 2;
    lost.section = "nosuchsection";
    std::vector<Issue> none = {lost};
    find_guards(obj.programs, sites(none, {}), Verifier::full, none);
    CHECK(!none[0].guard);
  }
  SUBCASE("a cell's verdicts") {
    // `show` is the guarded function at [10, 20) of its section.
    std::vector<Issue> is = {reloc("show", 10, "field_exists", rq_disk, Outcome::absent),
                             reloc("show", 12, "byte_off", rq_disk, Outcome::fails)};
    find_guards(obj.programs, sites(is, {}), Verifier::full, is);
    Cell c = cell(2, is);
    CHECK(c.program_verdicts == std::vector<Verdict>{Verdict::loads, Verdict::loads_guarded});
    CHECK(c.verdict() == Verdict::loads_guarded);
    CHECK(c.loads());
    std::vector<KernelRow> rows;
    rows.push_back(row("k/1", {c}));
    rows.push_back(row("k/2", {cell(2, {reloc("show", 12, "byte_off", rq_disk, Outcome::fails)})}));
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
