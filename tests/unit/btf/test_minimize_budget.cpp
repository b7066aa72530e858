// SPDX-License-Identifier: GPL-2.0-or-later
// The minimizer's per-call budget (budget.hpp) on hostile objects built here:
// too many relocations, names longer than the kernel's KSYM_NAME_LEN, a report
// or memory past its limit, a deadline, cancellation, and a TYPE_MATCHES
// relocation whose matching is exponential (in libbpf too), which only the
// checkpoints inside the CO-RE rules can stop. Each refusal names its limit.
#include <bpf/btf.h>
#include <doctest/doctest.h>
#include <linux/bpf.h>
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "bpf_elf.hpp"
#include "btf/kernel_btf.hpp"
#include "btf/minimizer.hpp"
#include "btf/object_file.hpp"
#include "btf_raw.hpp"

using namespace btfd;
using namespace btfd::btf;
using btfd::test::bpf_object;
using btfd::test::btf_ext_bytes;
using btfd::test::CoreReloRecord;
using btfd::test::raw_of;
using Clock = std::chrono::steady_clock;

// AddressSanitizer's redzones and quarantine make RSS say nothing about what
// the minimizer allocates: the RSS measure below is for the plain build.
#if defined(__SANITIZE_ADDRESS__)
#define BTFD_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BTFD_TEST_ASAN 1
#endif
#endif

namespace {

struct Built {
  std::vector<uint8_t> kernel, object;
};

// A kernel with `struct <type> { int <member>; int x; }` and an object with
// `struct <type> { int <member>; }` and `count` byte_off relocations in
// `section`: on `access` (the member: "0:0") or, with `distinct`, relocation i on the
// root's i-th array element ("i"), so every local and target spec differs.
Built field_relocs(size_t count, const std::string& type = "task_struct", const std::string& member = "pid",
                   const std::string& section = "kprobe/x", bool distinct = false, const std::string& access = "0:0") {
  Built b;
  BtfPtr k(btf__new_empty());
  int ki = btf__add_int(k.get(), "int", 4, BTF_INT_SIGNED);
  btf__add_struct(k.get(), type.c_str(), 8);
  btf__add_field(k.get(), member.c_str(), ki, 0, 0);
  btf__add_field(k.get(), "x", ki, 32, 0);
  b.kernel = raw_of(k.get());
  BtfPtr o(btf__new_empty());
  int oi = btf__add_int(o.get(), "int", 4, BTF_INT_SIGNED);
  int s = btf__add_struct(o.get(), type.c_str(), 4);
  btf__add_field(o.get(), member.c_str(), oi, 0, 0);
  auto sec = static_cast<uint32_t>(btf__add_str(o.get(), section.c_str()));
  auto same = static_cast<uint32_t>(btf__add_str(o.get(), access.c_str()));
  std::vector<CoreReloRecord> relos;
  relos.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    uint32_t at = distinct ? static_cast<uint32_t>(btf__add_str(o.get(), std::to_string(i).c_str())) : same;
    relos.push_back({static_cast<uint32_t>(8 * i), static_cast<uint32_t>(s), at, BPF_CORE_FIELD_BYTE_OFFSET});
  }
  b.object = bpf_object(raw_of(o.get()), btf_ext_bytes(sec, relos));
  return b;
}

// Structs A > B > C, each of k members, nested by value through the first
// member (b, c, d) in the kernel; in the object every member of A is `b`, of B
// `c`, of C `d`. libbpf's type matching tries each local member against each
// same-named target member and recurses: k^3 recursions of k compares each.
Built exponential_match(int k) {
  Built b;
  auto chain = [k](struct btf* p, bool hostile) {
    int i = btf__add_int(p, "int", 4, BTF_INT_SIGNED);
    int prev = i;
    const char* names[] = {"d", "c", "b"};
    const char* types[] = {"C", "B", "A"};
    for (int level = 0; level < 3; ++level) {
      const __u32 elem = level == 0 ? 4 : static_cast<__u32>(btf__resolve_size(p, prev));
      int s = btf__add_struct(p, types[level], elem * static_cast<__u32>(k));
      for (int m = 0; m < k; ++m) {
        std::string name = hostile || m == 0 ? names[level] : "m" + std::to_string(m);
        btf__add_field(p, name.c_str(), prev, static_cast<__u32>(m) * elem * 8, 0);
      }
      prev = s;
    }
    return prev;
  };
  BtfPtr kb(btf__new_empty());
  chain(kb.get(), false);
  b.kernel = raw_of(kb.get());
  BtfPtr o(btf__new_empty());
  int a = chain(o.get(), true);
  auto sec = static_cast<uint32_t>(btf__add_str(o.get(), "kprobe/x"));
  auto access = static_cast<uint32_t>(btf__add_str(o.get(), "0"));
  b.object = bpf_object(raw_of(o.get()),
                        btf_ext_bytes(sec, {CoreReloRecord{0, static_cast<uint32_t>(a), access, BPF_CORE_TYPE_MATCHES}}));
  return b;
}

std::shared_ptr<const KernelBtf> parse_kernel(const std::vector<uint8_t>& raw) {
  auto k = KernelBtf::parse(raw);
  REQUIRE_MESSAGE(k.ok(), (k.ok() ? std::string() : k.error().message));
  return *k;
}

Result<MinimizeResult> run(const Built& b, const MinimizeBudget& budget, MinimizeCost* cost = nullptr,
                           const std::string& name = "hostile.o") {
  auto kernel = parse_kernel(b.kernel);
  ObjectInput in{name, b.object};
  MinimizeOptions opts;
  opts.budget = budget;
  opts.cost = cost;
  return minimize(*kernel, std::span(&in, 1), opts);
}

#if !defined(BTFD_TEST_ASAN)
// A "VmRSS:"-like line of /proc/self/status, in KiB (-1 when absent).
long status_kib(const char* field) {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::strlen(field)));
  return -1;
}
#endif

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string env(const char* name) {
  const char* v = std::getenv(name);
  REQUIRE_MESSAGE(v != nullptr, name << " is set by tests/meson.build");
  return v;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "cannot read " << path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("more relocations than MaxRelocations= are refused before any is processed") {
  SUBCASE("one object, the default limit") {
    auto r = run(field_relocs(70000), MinimizeBudget{});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::too_large);
    CHECK(r.error().message ==
          "\"hostile.o\": 70000 CO-RE relocations; btfd minimizes at most 65536 per call ([Limits] MaxRelocations=)");
  }
  SUBCASE("the limit itself passes, one more does not") {
    MinimizeBudget budget;
    budget.max_relocations = 100;
    CHECK(run(field_relocs(100), budget).ok());
    auto r = run(field_relocs(101), budget);
    REQUIRE_FALSE(r.ok());
    CHECK(has(r.error().message, "101 CO-RE relocations; btfd minimizes at most 100 per call"));
  }
  SUBCASE("all objects of a call together") {
    MinimizeBudget budget;
    budget.max_relocations = 100;
    Built b = field_relocs(60);
    auto kernel = parse_kernel(b.kernel);
    std::vector<ObjectInput> in{{"one.o", b.object}, {"two.o", b.object}};
    MinimizeOptions opts;
    opts.budget = budget;
    auto r = minimize(*kernel, in, opts);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::too_large);
    CHECK(has(r.error().message, "\"two.o\": 60 CO-RE relocations, 120 with the call's other objects"));
    CHECK(has(r.error().message, "[Limits] MaxRelocations="));
    // lookup_names (a one-shot btfctl run's first step) counts them the same way.
    auto names = lookup_names(in, budget);
    REQUIRE_FALSE(names.ok());
    CHECK(names.error().message == r.error().message);
    CHECK(lookup_names(std::span(in.data(), 1), budget).ok());
  }
}

TEST_CASE("a name longer than KSYM_NAME_LEN is refused, and the message quotes only its start") {
  const std::string huge(4096, 'n'), longest(512, 'n');
  auto refused = [](const Built& b, const std::string& what) {
    CAPTURE(what);
    auto r = run(b, MinimizeBudget{});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::too_large);
    CHECK(has(r.error().message,
              "a " + what + " of 4096 bytes; the longest name btfd accepts is 512 bytes (KSYM_NAME_LEN)"));
    CHECK(r.error().message.size() < 400);
    return r.error().message;
  };
  SUBCASE("type name") {
    Built b = field_relocs(1, huge);
    refused(b, "type name");
    ObjectInput in{"hostile.o", b.object};
    auto names = lookup_names(std::span(&in, 1));
    REQUIRE_FALSE(names.ok());
    CHECK(has(names.error().message, "a type name of 4096 bytes"));
  }
  SUBCASE("section name") {
    Built b = field_relocs(1, "task_struct", "pid", huge);
    std::string msg = refused(b, "section name");
    CHECK(has(msg, "section 'nnnn"));
    ObjectInput in{"hostile.o", b.object};
    auto names = lookup_names(std::span(&in, 1));
    REQUIRE_FALSE(names.ok());
    CHECK(has(names.error().message, "a section name of 4096 bytes"));
  }
  SUBCASE("member name on the access path") { refused(field_relocs(1, "task_struct", huge), "member name"); }
  SUBCASE("512 bytes is the longest accepted, and it matches") {
    auto r = run(field_relocs(1, longest, longest, longest), MinimizeBudget{});
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
    REQUIRE(r->relocs.size() == 1);
    CHECK(r->relocs[0].matches == 1);
    MinimizeBudget tighter;
    tighter.max_name_bytes = 511;
    auto t = run(field_relocs(1, longest), tighter);
    REQUIRE_FALSE(t.ok());
    CHECK(has(t.error().message, "a type name of 512 bytes; the longest name btfd accepts is 511 bytes"));
  }
}

TEST_CASE("access strings: at most BPF_CORE_SPEC_MAX_LEN (64) indexes, and quoted in part") {
  auto with = [](const std::string& access) {
    return run(field_relocs(1, "task_struct", "pid", "kprobe/x", false, access), MinimizeBudget{});
  };
  std::string access = "0";
  for (int i = 1; i < 64; ++i) access += ":0";
  auto at_limit = with(access);  // 64 indexes parse; the path then leaves the struct
  REQUIRE_FALSE(at_limit.ok());
  CHECK(at_limit.error().code == Errc::invalid_argument);
  CHECK_FALSE(has(at_limit.error().message, "accessors"));
  auto past = with(access + ":0");
  REQUIRE_FALSE(past.ok());
  CHECK(past.error().code == Errc::too_large);
  CHECK(has(past.error().message, "more than 64 accessors"));
  // libbpf reads "000...0" as 0: an access string of any length, quoted in part.
  auto longest = with("0:" + std::string(100000, '0') + "x");
  REQUIRE_FALSE(longest.ok());
  CHECK(has(longest.error().message, "expected ':'"));
  CHECK(longest.error().message.size() < 400);
}

TEST_CASE("the report stops at MaxReportBytes=, counted exactly as it is built") {
  // 3000 relocations on distinct specs of a 200-byte type name: ~1.3 MB of report.
  Built b = field_relocs(3000, std::string(200, 't'), "pid", "kprobe/x", true);
  MinimizeCost cost;
  auto r = run(b, MinimizeBudget{}, &cost);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::too_large);
  CHECK(r.error().message == "\"hostile.o\": the relocation report would take more than 1 MiB ([Limits] MaxReportBytes=)");
  CHECK(cost.report_bytes <= MinimizeBudget{}.max_report_bytes);

  MinimizeBudget larger;
  larger.max_report_bytes = 8 << 20;
  auto ok = run(b, larger, &cost);
  REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? std::string() : ok.error().message));
  CHECK(ok->relocs.size() == 3000);
  const std::string text = compact_report(*ok).dump();
  CHECK(text.size() > MinimizeBudget{}.max_report_bytes);
  CHECK(text.size() <= larger.max_report_bytes);
  CHECK(text.size() == ok->relocs.compact_bytes());
  CHECK(text.size() == cost.report_bytes);
  // The count is exact: the report's own size is enough, a byte less is not.
  MinimizeBudget exact;
  exact.max_report_bytes = text.size();
  CHECK(run(b, exact).ok());
  exact.max_report_bytes = text.size() - 1;
  auto short_one = run(b, exact);
  REQUIRE_FALSE(short_one.ok());
  CHECK(has(short_one.error().message, "[Limits] MaxReportBytes="));
}

TEST_CASE("names that need escaping or replacing are counted as dump() writes them") {
  // Quote, backslash, control characters and a byte that is not UTF-8 (three
  // bytes as U+FFFD): each costs more in JSON than in the object.
  const std::string odd = std::string("sec\"\\\x01\x1f\n\t") + "\xff" + "\x7f";
  const std::string type = std::string("ty\"pe\x02") + "\xc3(";
  Built b = field_relocs(5, type, "pid", odd, true);
  MinimizeCost cost;
  auto r = run(b, MinimizeBudget{}, &cost, "obj\\\"\xfe.o");
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
  std::string text;
  REQUIRE_NOTHROW(text = compact_report(*r).dump());  // strict: throws on invalid UTF-8
  CHECK(text.size() == r->relocs.compact_bytes());
  CHECK(text.size() == cost.report_bytes);
  CHECK(has(text, "\\u0001"));
}

TEST_CASE("a deadline in the past stops the call, naming MinimizeSec=") {
  MinimizeBudget budget;
  budget.deadline = Clock::now() - std::chrono::seconds(1);
  budget.deadline_sec = 30;
  auto r = run(field_relocs(1), budget);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::too_large);
  CHECK(has(r.error().message, "took longer than 30 s ([Limits] MinimizeSec=)"));
  ObjectInput in{"hostile.o", field_relocs(1).object};
  auto names = lookup_names(std::span(&in, 1), budget);
  REQUIRE_FALSE(names.ok());
  CHECK(has(names.error().message, "[Limits] MinimizeSec="));
}

TEST_CASE("the deadline reaches into an exponential type match") {
  // 400^3 recursions of 400 compares: hours without the checks inside the rules.
  Built b = exponential_match(400);
  MinimizeBudget budget;
  budget.deadline = Clock::now() + std::chrono::milliseconds(300);
  budget.deadline_sec = 1;
  auto start = Clock::now();
  auto r = run(b, budget);
  auto took = Clock::now() - start;
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::too_large);
  CHECK(has(r.error().message, "\"hostile.o\": minimizing took longer than 1 s ([Limits] MinimizeSec=)"));
  CHECK(took < std::chrono::seconds(10));
  // The same object matches when it is small enough to finish: the relocation
  // is a real type match, not an error the deadline hides.
  auto small = run(exponential_match(4), MinimizeBudget{});
  REQUIRE_MESSAGE(small.ok(), (small.ok() ? std::string() : small.error().message));
  CHECK(small->relocs[0].matches == 1);
}

TEST_CASE("cancellation stops the call with Errc::cancelled") {
  std::atomic<bool> cancelled{true};
  MinimizeBudget budget;
  budget.cancelled = &cancelled;
  auto r = run(field_relocs(1), budget);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::cancelled);
  CHECK(r.error().message == "cancelled: the client went away or btfd is stopping");

  SUBCASE("while an exponential match runs") {
    cancelled = false;
    Built b = exponential_match(400);
    std::thread stopper([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      cancelled = true;
    });
    auto start = Clock::now();
    auto c = run(b, budget);
    auto took = Clock::now() - start;
    stopper.join();
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().code == Errc::cancelled);
    CHECK(took < std::chrono::seconds(10));
  }
}

TEST_CASE("memory past MinimizeMemory= is refused before it is allocated") {
  MinimizeBudget budget;
  budget.max_memory_bytes = 4096;
  MinimizeCost cost;
  auto r = run(field_relocs(1000), budget, &cost);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::too_large);
  CHECK(r.error().message == "\"hostile.o\": minimizing would take more than 4 KiB of memory ([Limits] MinimizeMemory=)");
  CHECK(cost.peak_memory_bytes <= 4096);
  CHECK(cost.peak_memory_bytes > 0);
  // The same object under the default budget, and what it held.
  auto ok = run(field_relocs(1000), MinimizeBudget{}, &cost);
  REQUIRE(ok.ok());
  CHECK(cost.peak_memory_bytes > 4096);
  CHECK(cost.peak_memory_bytes < (1u << 20));
}

TEST_CASE("60000 relocations with 500-byte names: the call stays in its memory budget") {
  const std::string name(500, 'q');
  Built b = field_relocs(60000, name, "pid", "kprobe/" + std::string(493, 's'), true);
  MinimizeBudget budget;
  budget.max_report_bytes = 1ull << 30;  // so that memory is what runs out
  budget.max_memory_bytes = 32ull << 20;
  MinimizeCost cost;
  auto r = run(b, budget, &cost);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::too_large);
  CHECK(has(r.error().message, "more than 32 MiB of memory ([Limits] MinimizeMemory=)"));
  CHECK(cost.peak_memory_bytes <= budget.max_memory_bytes);
  CHECK(cost.peak_memory_bytes > budget.max_memory_bytes / 2);
  // Under the default budget the report runs out first, at 1 MiB.
  auto d = run(b, MinimizeBudget{}, &cost);
  REQUIRE_FALSE(d.ok());
  CHECK(has(d.error().message, "[Limits] MaxReportBytes="));
  CHECK(cost.peak_memory_bytes < (16u << 20));

#if !defined(BTFD_TEST_ASAN)
  // What the process really allocates: a child runs the call and reports how
  // far its peak RSS (VmHWM) rose above its RSS when it began (the object and
  // kernel are built already). Allocator slack aside, that is the accounted
  // memory. The same call with the limit lifted is the control: it runs to
  // its end and grows well past the limit, so the measure sees it.
  auto kernel = parse_kernel(b.kernel);
  ObjectInput in{"hostile.o", b.object};
  auto grown_kib = [&](const MinimizeBudget& limits, Errc* code) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      MinimizeOptions opts;
      opts.budget = limits;
      // Memory earlier tests freed would be reused without touching new pages:
      // given back first, whatever the call allocates shows in its RSS.
      malloc_trim(0);
      long out[2] = {status_kib("VmRSS:"), 0};
      auto res = minimize(*kernel, std::span(&in, 1), opts);
      out[0] = status_kib("VmHWM:") - out[0];
      out[1] = res.ok() ? 0 : static_cast<long>(res.error().code);
      _exit(write(fds[1], out, sizeof(out)) == sizeof(out) ? 0 : 1);
    }
    close(fds[1]);
    long out[2] = {-1, -1};
    ssize_t n = read(fds[0], out, sizeof(out));
    close(fds[0]);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    REQUIRE(n == sizeof(out));
    *code = static_cast<Errc>(out[1]);
    return out[0];
  };
  Errc code{};
  const long limited = grown_kib(budget, &code);
  CHECK(code == Errc::too_large);
  MinimizeBudget lifted = budget;
  lifted.max_memory_bytes = 1ull << 30;
  Errc lifted_code{};
  const long unlimited = grown_kib(lifted, &lifted_code);
  INFO("peak RSS grew by " << limited << " KiB under the limit, " << unlimited << " KiB without");
  CHECK(static_cast<int>(lifted_code) == 0);
  CHECK(unlimited > static_cast<long>(budget.max_memory_bytes >> 10) * 3 / 2);
  CHECK(limited < static_cast<long>((budget.max_memory_bytes + (16ull << 20)) >> 10));
#endif
}

TEST_CASE("the compact report decodes to the verbose report's fields, for real objects") {
  const std::string bpf_dir = env("BTFD_BUILD_ROOT") + "/tests/bpf/";
  auto kernel = parse_kernel(read_bytes(env("BTFD_FIXTURE_KERNEL_BTF")));
  const std::vector<std::string> names{"sample", "kinds", "match_void_tm", "exists_void", "check_progs", "dup_local"};
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<ObjectInput> all;
  for (const auto& n : names) bytes.push_back(read_bytes(bpf_dir + n + ".bpf.o"));
  for (size_t i = 0; i < names.size(); ++i) all.push_back({names[i] + ".bpf.o", bytes[i]});
  size_t compared = 0, ambiguous = 0;
  for (size_t i = 0; i <= names.size(); ++i) {
    std::span<const ObjectInput> in = i < names.size() ? std::span(&all[i], 1) : std::span(all);
    const std::string which = i < names.size() ? names[i] : "all";
    CAPTURE(which);
    MinimizeCost cost;
    MinimizeOptions opts;
    opts.cost = &cost;
    // kinds holds a relocation libbpf finds ambiguous on this kernel: reported, not fatal.
    opts.report_ambiguity = true;
    auto r = minimize(*kernel, in, opts);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
    nlohmann::json compact = compact_report(*r), verbose = report_to_json(r->relocs);
    CHECK(compact.dump().size() == r->relocs.compact_bytes());
    CHECK(compact.dump().size() == cost.report_bytes);
    const auto& strings = compact.at("strings");
    const auto& rows = compact.at("relocations");
    REQUIRE(rows.size() == verbose.size());
    REQUIRE(rows.size() == r->relocs.size());
    std::set<std::string> unique;
    for (const auto& s : strings) unique.insert(s.get<std::string>());
    CHECK(unique.size() == strings.size());  // each string once
    auto str = [&](const nlohmann::json& idx) { return strings.at(idx.get<size_t>()); };
    for (size_t k = 0; k < rows.size(); ++k) {
      const auto& row = rows[k];
      const auto& v = verbose[k];
      RelocReport spelled = r->relocs[k];
      REQUIRE(row.size() == (spelled.ambiguity.empty() ? 9 : 10));
      if (row.size() == 10) {
        CHECK(str(row[9]) == spelled.ambiguity);
        ++ambiguous;
      }
      CHECK(str(row[0]) == v["object"]);
      CHECK(str(row[1]) == v["section"]);
      CHECK(row[2] == v["relo"]);
      CHECK(row[3] == v["insn"]);
      CHECK(str(row[4]) == v["kind"]);
      CHECK(str(row[5]) == v["local"]);
      int target = row[6].get<int>();
      if (target == -2) CHECK(v["target"] == "local");
      else if (target == -1) CHECK(v["target"].is_null());
      else CHECK(str(row[6]) == v["target"]);
      CHECK(row[7] == v["candidates"]);
      CHECK(row[8] == v["matches"]);
      // And the spelled-out view of the same row.
      CHECK(spelled.local_spec == v["local"].get<std::string>());
      CHECK(spelled.skipped == (target == -2));
      ++compared;
    }
  }
  CHECK(compared > 40);
  CHECK(ambiguous >= 2);  // kinds alone, then with all objects
}

TEST_CASE("many relocations on the same names: the compact report is a fraction of the verbose one") {
  Built b = field_relocs(2000, "task_struct", "pid", "kprobe/do_sys_openat2");
  auto r = run(b, MinimizeBudget{});
  REQUIRE(r.ok());
  const size_t compact = compact_report(*r).dump().size(), verbose = report_to_json(r->relocs).dump().size();
  INFO("compact " << compact << " bytes, verbose " << verbose);
  CHECK(compact * 5 < verbose);
  // The object, section and kind names and the specs (local and target are
  // the same text here: ids and offsets agree), each once.
  CHECK(compact_report(*r).at("strings").size() == 4);
}

TEST_CASE("an ambiguity reported in report-only mode is a tenth element naming its message") {
  BtfPtr k(btf__new_empty());
  int ki = btf__add_int(k.get(), "int", 4, BTF_INT_SIGNED);
  btf__add_struct(k.get(), "task_struct", 8);
  btf__add_field(k.get(), "x", ki, 0, 0);
  btf__add_field(k.get(), "pid", ki, 32, 0);
  btf__add_struct(k.get(), "task_struct___b", 4);
  btf__add_field(k.get(), "pid", ki, 0, 0);
  Built b = field_relocs(1);
  b.kernel = raw_of(k.get());
  auto kernel = parse_kernel(b.kernel);
  ObjectInput in{"amb.o", b.object};
  MinimizeOptions opts;
  opts.emit = false;
  opts.report_ambiguity = true;
  auto r = minimize(*kernel, std::span(&in, 1), opts);
  REQUIRE(r.ok());
  auto j = compact_report(*r);
  REQUIRE(j["relocations"].size() == 1);
  const auto& row = j["relocations"][0];
  REQUIRE(row.size() == 10);
  CHECK(j["strings"][row[9].get<size_t>()].get<std::string>().find("field offset ambiguity") != std::string::npos);
  CHECK(j.dump().size() == r->relocs.compact_bytes());
  CHECK(r->relocs[0].ambiguity.find("field offset ambiguity") != std::string::npos);
}
