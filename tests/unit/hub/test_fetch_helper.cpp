// SPDX-License-Identifier: GPL-2.0-or-later
// The btfd-fetch protocol: its writers and readers on their own (every field
// of the request and of each report through both, every kind of malformed
// input refused by name), the daemon's side driven by small shell scripts
// standing in for the helper (real child processes that write to fd 3 and
// report on fd 4 exactly as btfd-fetch does, or misbehave), and the real
// btfd-fetch on a fixture archive.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <bpf/btf.h>

#include "hub/fetch_helper.hpp"
#include "support/temp_dir.hpp"
#include "util/fd.hpp"

using namespace btfd;
using namespace btfd::hub;
using btfd::test::TempDir;

namespace {
std::string script(const TempDir& dir, const std::string& name, const std::string& body) {
  std::string path = dir / name;
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

// A file holding report lines, for a script to send to fd 4 ("cat FILE >&4").
std::string lines_file(const TempDir& dir, const std::string& name, const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l;
  btfd::test::write_text(dir / name, text);
  return dir / name;
}

// A minimal kernel BTF (it defines task_struct), written where a script can cat it.
std::string kernel_btf_file(const TempDir& dir) {
  struct btf* b = btf__new_empty();
  int i = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
  btf__add_struct(b, "task_struct", 4);
  btf__add_field(b, "pid", i, 0, 0);
  __u32 size = 0;
  auto p = static_cast<const uint8_t*>(btf__raw_data(b, &size));
  std::string path = dir / "kernel.btf";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(p), size);
  btf__free(b);
  return path;
}

uint64_t size_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<uint64_t>(st.st_size);
}

struct Run {
  Result<AttemptResult> result = make_error(Errc::internal, "not run");
  FetchFailure failure = FetchFailure::none;
  std::vector<Progress> progress;
  std::string output;
};

AttemptRequest test_request(const std::string& temp_dir, long timeout_ms = 5000) {
  AttemptRequest req;
  req.url = "http://127.0.0.1:1/x.btf.tar.xz";
  req.release = "5.4.0-1";
  req.temp_dir = temp_dir;
  req.download.total_timeout_ms = timeout_ms;
  return req;
}

Run run(const std::string& helper, const AttemptRequest& req) {
  using namespace std::chrono_literals;
  TempDir out_dir;
  UniqueFd out(::open((out_dir / "out").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  REQUIRE(out);
  Run r;
  r.result = fetch_helper_attempt(helper, 300ms)(req, out.get(), [&](const Progress& p) { r.progress.push_back(p); },
                                          &r.failure);
  auto bytes = pread_all(out.get(), 64 << 20);
  REQUIRE(bytes.ok());
  r.output.assign(bytes->begin(), bytes->end());
  return r;
}

Run run(const std::string& helper, long timeout_ms = 5000) {
  TempDir staging;
  return run(helper, test_request(staging.path(), timeout_ms));
}

// A request whose every field differs from its default.
HelperRequest full_request() {
  HelperRequest h;
  h.parent = 4242;
  AttemptRequest& req = h.attempt;
  req.url = "https://mirror.example/ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz";
  req.release = "5.4.0-26-generic";
  req.download.connect_timeout_ms = 1234;
  req.download.total_timeout_ms = 98765;
  req.download.low_speed_time_s = 7;
  req.download.max_bytes = (1ull << 40) + 3;  // past 32 bits
  req.download.max_redirects = 2;
  req.extract.max_output_bytes = (1ull << 33) + 5;
  req.extract.max_entries = 3;
  req.temp_dir = "/var/cache/btfd/tmp dir";  // a space, as argv never minded
  req.sums_url = "https://mirror.example/SHA256SUMS";
  req.sums_entry = "ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz";
  req.transport.proxy = "";  // set, to nothing: no proxy even if the environment names one
  req.transport.no_proxy = "localhost,.internal";
  req.transport.ca_file = "/etc/btfd/site-ca.pem";
  req.transport.client_cert = "/etc/btfd/client.pem";
  req.transport.client_key = "/run/credentials/btfd.service/client-key";
  req.transport.auth = "bearer";
  req.transport.auth_file = "/run/credentials/btfd.service/hub-token";
  req.transport.proxy_auth_file = "/run/credentials/btfd.service/proxy-auth";
  req.sums_cache = "/var/cache/btfd/sums \"quoted\"\\ \xc3\xa9";
  return h;
}

void check_same_request(const HelperRequest& back, const HelperRequest& h) {
  const AttemptRequest &a = back.attempt, &b = h.attempt;
  CHECK(back.parent == h.parent);
  CHECK(a.url == b.url);
  CHECK(a.release == b.release);
  CHECK(a.download.connect_timeout_ms == b.download.connect_timeout_ms);
  CHECK(a.download.total_timeout_ms == b.download.total_timeout_ms);
  CHECK(a.download.low_speed_time_s == b.download.low_speed_time_s);
  CHECK(a.download.max_bytes == b.download.max_bytes);
  CHECK(a.download.max_redirects == b.download.max_redirects);
  CHECK(a.extract.max_output_bytes == b.extract.max_output_bytes);
  CHECK(a.extract.max_entries == b.extract.max_entries);
  CHECK(a.temp_dir == b.temp_dir);
  CHECK(a.sums_url == b.sums_url);
  CHECK(a.sums_entry == b.sums_entry);
  CHECK(a.transport == b.transport);
  CHECK(a.transport.proxy == b.transport.proxy);
  CHECK(a.transport.no_proxy == b.transport.no_proxy);
  CHECK(a.sums_cache == b.sums_cache);
}

// The protocol error of a reader, which must name `what`.
template <class T>
void check_refused(const Result<T>& r, const std::string& what) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::protocol);
  CHECK_MESSAGE(r.error().message.find(what) != std::string::npos, r.error().message);
}
}  // namespace

TEST_CASE("a helper that writes the output and reports done succeeds, with progress on the way") {
  TempDir dir;
  std::string btf = kernel_btf_file(dir);
  std::string report = lines_file(dir, "report",
                                  {format_progress({10, 100}), format_progress({100, 100}),
                                   format_done({100, size_of(btf), true})});
  auto r = run(script(dir, "ok", "cat " + btf + " >&3\ncat " + report + " >&4"));
  REQUIRE(r.result.ok());
  CHECK(r.result->downloaded == 100);
  CHECK(r.result->size == size_of(btf));
  CHECK(r.result->checksum_verified);
  CHECK(r.output.size() == size_of(btf));
  REQUIRE(r.progress.size() == 2);
  CHECK(r.progress[0].downloaded == 10);
  CHECK(r.progress[1].downloaded == 100);
  CHECK(r.progress[1].total == 100);
  CHECK(r.failure == FetchFailure::none);
}

TEST_CASE("the request reaches the helper whole on stdin; its argv is only the program's name") {
  TempDir dir;
  std::string btf = kernel_btf_file(dir);
  std::string report = lines_file(dir, "report", {format_done({1, size_of(btf), false})});
  std::string helper = script(dir, "spy", "cat >" + (dir / "request") + "\necho \"$#\" >" + (dir / "argc") + "\ncat " +
                                              btf + " >&3\ncat " + report + " >&4");
  HelperRequest h = full_request();
  h.attempt.download.total_timeout_ms = 5000;
  auto r = run(helper, h.attempt);
  REQUIRE(r.result.ok());
  CHECK(r.result->checksum_verified == false);
  auto argc = btfd::read_text_file(dir / "argc");
  REQUIRE(argc.ok());
  CHECK(*argc == "0\n");
  auto text = btfd::read_text_file(dir / "request");
  REQUIRE(text.ok());
  auto back = parse_request(*text);
  REQUIRE(back.ok());
  h.parent = ::getpid();  // the daemon names itself
  check_same_request(*back, h);
}

TEST_CASE("the helper's output is checked, not taken on its word") {
  TempDir dir;
  auto junk = run(script(dir, "junk", "printf 'BTF!' >&3\ncat " +
                                          lines_file(dir, "junk-report", {format_done({100, 4, true})}) + " >&4"));
  REQUIRE_FALSE(junk.result.ok());
  CHECK(junk.result.error().code == Errc::corrupt);
  CHECK(junk.failure == FetchFailure::payload);
  std::string btf = kernel_btf_file(dir);
  auto lies = run(script(dir, "lies", "cat " + btf + " >&3\ncat " +
                                          lines_file(dir, "lies-report", {format_done({100, 7, true})}) + " >&4"));
  REQUIRE_FALSE(lies.result.ok());
  CHECK(lies.result.error().message.find("reported 7 bytes") != std::string::npos);
}

TEST_CASE("a reported failure keeps its error code, retry class, errno and message") {
  TempDir dir;
  auto fail_script = [&](const std::string& name, Errc code, FetchFailure failure, int err, const std::string& message) {
    Error e = make_error(code, message);
    e.sys_errno = err;
    return script(dir, name, "cat " + lines_file(dir, name + ".report", {format_fail(e, failure)}) + " >&4; exit 1");
  };
  auto r = run(fail_script("nf", Errc::not_in_hub, FetchFailure::not_found, 0, "no such file: x"));
  REQUIRE_FALSE(r.result.ok());
  CHECK(r.result.error().code == Errc::not_in_hub);
  CHECK(r.result.error().message == "no such file: x");
  CHECK(r.failure == FetchFailure::not_found);
  auto t = run(fail_script("tr", Errc::timeout, FetchFailure::transient, 110, "stalled"));
  REQUIRE_FALSE(t.result.ok());
  CHECK(t.result.error().code == Errc::timeout);
  CHECK(t.result.error().sys_errno == 110);
  CHECK(t.failure == FetchFailure::transient);
  // A full disk where the helper writes: the daemon's to fix, not the mirror's.
  auto full = run(script(dir, "full",
                         "printf '%s\\n' '{\"fail\":{\"error\":{\"code\":\"no-space\",\"errno\":28,\"message\":\"write: "
                         "No space left on device\"},\"failure\":\"local\"}}' >&4; exit 1"));
  REQUIRE_FALSE(full.result.ok());
  CHECK(full.result.error().code == Errc::no_space);
  CHECK(full.result.error().sys_errno == 28);
  CHECK(full.result.error().message == "write: No space left on device");
  CHECK(full.failure == FetchFailure::local);
  // The wire form, pinned: changing it changes the protocol, which btfd and btfd-fetch must do together.
  CHECK(format_fail(full.result.error(), FetchFailure::local) ==
        "{\"fail\":{\"error\":{\"code\":\"no-space\",\"errno\":28,\"message\":\"write: No space left on device\"},"
        "\"failure\":\"local\"}}\n");
}

TEST_CASE("a helper that crashes costs one try, as a bad payload") {
  TempDir dir;
  auto r = run(script(dir, "segv", "cat " + lines_file(dir, "report", {format_progress({1, 2})}) + " >&4; kill -SEGV $$"));
  REQUIRE_FALSE(r.result.ok());
  CHECK(r.result.error().code == Errc::corrupt);
  CHECK(r.result.error().message.find("signal 11") != std::string::npos);
  CHECK(r.failure == FetchFailure::payload);
  CHECK(r.progress.size() == 1);
}

TEST_CASE("garbage, silence, a hang and a missing helper are errors, never successes") {
  TempDir dir;
  auto g = run(script(dir, "garbage", "printf '{\"done\":\"lots\"}\\n' >&4"));
  REQUIRE_FALSE(g.result.ok());
  CHECK(g.result.error().code == Errc::protocol);
  CHECK(g.result.error().message.find("malformed report") != std::string::npos);
  CHECK(g.failure == FetchFailure::fatal);
  // The old line format is garbage now, not a half-understood report.
  auto old = run(script(dir, "old", "printf 'done 100 4 1\\n' >&4"));
  REQUIRE_FALSE(old.result.ok());
  CHECK(old.result.error().code == Errc::protocol);
  auto s = run(script(dir, "silent", "exit 0"));
  REQUIRE_FALSE(s.result.ok());
  CHECK(s.result.error().message.find("without a valid report") != std::string::npos);
  auto flood = run(script(dir, "flood", "head -c 200000 /dev/zero | tr '\\\\0' x >&4"));
  REQUIRE_FALSE(flood.result.ok());
  CHECK(flood.result.error().code == Errc::protocol);
  CHECK(flood.result.error().message.find("longer than") != std::string::npos);
  auto hang = run(script(dir, "hang", "cat " + lines_file(dir, "p", {format_progress({1, 2})}) + " >&4; exec sleep 60"), 0);
  REQUIRE_FALSE(hang.result.ok());
  CHECK(hang.result.error().code == Errc::timeout);
  auto linger = run(script(dir, "linger", "exec 4>&-; exec sleep 60"), 0);  // closes its report, stays
  REQUIRE_FALSE(linger.result.ok());
  CHECK(linger.result.error().code == Errc::timeout);
  auto m = run(dir / "does-not-exist");
  REQUIRE_FALSE(m.result.ok());
  CHECK(m.result.error().message.find("cannot start the fetch helper") != std::string::npos);
}

TEST_CASE("the request round-trips every field") {
  HelperRequest h = full_request();
  auto text = format_request(h);
  REQUIRE(text.ok());
  CHECK(text->find('\n') == std::string::npos);
  auto back = parse_request(*text);
  REQUIRE(back.ok());
  check_same_request(*back, h);
  REQUIRE(back->attempt.transport.proxy);
  CHECK(back->attempt.transport.proxy->empty());
  // Unset optionals stay unset (libcurl's default), and are left out of the document.
  h.attempt.transport.proxy.reset();
  h.attempt.transport.no_proxy.reset();
  auto unset = format_request(h);
  REQUIRE(unset.ok());
  CHECK(unset->find("proxy\"") == std::string::npos);
  auto unset_back = parse_request(*unset);
  REQUIRE(unset_back.ok());
  CHECK_FALSE(unset_back->attempt.transport.proxy);
  CHECK_FALSE(unset_back->attempt.transport.no_proxy);
  CHECK(unset_back->attempt.transport.auth_file == h.attempt.transport.auth_file);
  // Every auth kind the transport knows.
  for (const char* auth : {"", "basic", "bearer"}) {
    h.attempt.transport.auth = auth;
    auto t = format_request(h);
    REQUIRE(t.ok());
    auto b = parse_request(*t);
    REQUIRE(b.ok());
    CHECK(b->attempt.transport.auth == auth);
  }
}

TEST_CASE("a request that JSON cannot carry is refused by the writer, not mangled") {
  HelperRequest h = full_request();
  h.attempt.temp_dir = "/var/tmp/\xff\xfe";
  auto text = format_request(h);
  REQUIRE_FALSE(text.ok());
  CHECK(text.error().code == Errc::invalid_argument);
}

TEST_CASE("every report record round-trips every field") {
  for (Progress p : {Progress{0, 0}, Progress{12345, 0}, Progress{1ull << 40, ~0ull}}) {
    std::string line = format_progress(p);
    REQUIRE(line.back() == '\n');
    line.pop_back();
    auto back = parse_report_line(line);
    REQUIRE(back.ok());
    REQUIRE(std::holds_alternative<Progress>(*back));
    CHECK(std::get<Progress>(*back).downloaded == p.downloaded);
    CHECK(std::get<Progress>(*back).total == p.total);
  }
  for (bool verified : {false, true}) {
    AttemptResult r{(1ull << 35) + 1, 4242, verified};
    std::string line = format_done(r);
    line.pop_back();
    auto back = parse_report_line(line);
    REQUIRE(back.ok());
    REQUIRE(std::holds_alternative<AttemptResult>(*back));
    CHECK(std::get<AttemptResult>(*back).downloaded == r.downloaded);
    CHECK(std::get<AttemptResult>(*back).size == r.size);
    CHECK(std::get<AttemptResult>(*back).checksum_verified == verified);
  }
  // Every error code and every retry class, as names.
  int n = 0;
  for (int c = static_cast<int>(Errc::invalid_argument); c <= static_cast<int>(Errc::internal); ++c)
    for (FetchFailure f : {FetchFailure::none, FetchFailure::not_found, FetchFailure::transient, FetchFailure::fatal,
                           FetchFailure::payload, FetchFailure::local}) {
      Error e = make_error(static_cast<Errc>(c), "message " + std::to_string(c) + " \"quoted\" \xc3\xa9");
      e.sys_errno = c * 3 - 20;  // negative too: errno is an int
      std::string line = format_fail(e, f);
      CHECK(line.find(errc_name(e.code)) != std::string::npos);
      line.pop_back();
      auto back = parse_report_line(line);
      REQUIRE(back.ok());
      REQUIRE(std::holds_alternative<FailReport>(*back));
      const FailReport& fr = std::get<FailReport>(*back);
      CHECK(fr.error.code == e.code);
      CHECK(fr.error.sys_errno == e.sys_errno);
      CHECK(fr.error.message == e.message);
      CHECK(fr.failure == f);
      ++n;
    }
  CHECK(n == 16 * 6);
}

TEST_CASE("a failure's line stays one bounded line whatever its message holds") {
  std::string message;
  for (int i = 0; i < 100000; ++i) message += static_cast<char>(i % 256);  // control bytes, '\n', invalid UTF-8
  std::string line = format_fail(make_error(Errc::corrupt, message), FetchFailure::payload);
  CHECK(line.size() <= kMaxReportLine);
  REQUIRE(line.back() == '\n');
  line.pop_back();
  CHECK(line.find('\n') == std::string::npos);
  auto back = parse_report_line(line);
  REQUIRE(back.ok());
  REQUIRE(std::holds_alternative<FailReport>(*back));
  const std::string& got = std::get<FailReport>(*back).error.message;
  CHECK(got.find('\n') == std::string::npos);
  CHECK(got.find("\xef\xbf\xbd") != std::string::npos);  // U+FFFD for what was not UTF-8
  CHECK(got.substr(0, 10) == std::string("\0\x01\x02\x03\x04\x05\x06\x07\x08\x09", 10));
}

TEST_CASE("malformed reports are refused, each with a named protocol error") {
  struct Case {
    std::string line, named;
  };
  const Case cases[] = {
      {"progress 1 2", "not valid JSON"},
      {"", "not valid JSON"},
      {"{\"progress\":{\"downloaded\":1,\"total\":2}} x", "not valid JSON"},
      {"[1,2]", "one member"},
      {"{}", "one member"},
      {"{\"progress\":{\"downloaded\":1,\"total\":2},\"done\":{}}", "one member"},
      {"{\"finished\":{}}", "unknown report \"finished\""},
      {"{\"progress\":[1,2]}", "must be an object"},
      {"{\"progress\":{\"downloaded\":1}}", "missing field \"total\""},
      {"{\"progress\":{\"downloaded\":1,\"total\":2,\"eta\":3}}", "unknown field \"eta\""},
      {"{\"progress\":{\"downloaded\":\"1\",\"total\":2}}", "\"downloaded\": must be a number"},
      {"{\"progress\":{\"downloaded\":1.5,\"total\":2}}", "\"downloaded\": must be a whole number"},
      {"{\"progress\":{\"downloaded\":1e400,\"total\":2}}", "number overflow"},  // no infinity from JSON
      {"{\"progress\":{\"downloaded\":-1,\"total\":2}}", "\"downloaded\": is out of range"},
      {"{\"progress\":{\"downloaded\":18446744073709551616,\"total\":2}}", "\"downloaded\""},
      {"{\"progress\":{\"downloaded\":null,\"total\":2}}", "must be a number"},
      {"{\"progress\":{\"downloaded\":1,\"downloaded\":2,\"total\":2}}", "\"downloaded\" twice"},
      {"{\"done\":{\"downloaded\":1,\"size\":2,\"checksum_verified\":1}}", "must be true or false"},
      {"{\"done\":{\"downloaded\":1,\"size\":2}}", "missing field \"checksum_verified\""},
      {"{\"fail\":{\"error\":{\"code\":\"nope\",\"errno\":0,\"message\":\"\"},\"failure\":\"fatal\"}}",
       "unknown value \"nope\""},
      {"{\"fail\":{\"error\":{\"code\":\"io\",\"errno\":0,\"message\":\"\"},\"failure\":\"sometimes\"}}",
       "\"failure\": unknown value \"sometimes\""},
      {"{\"fail\":{\"error\":{\"code\":\"io\",\"errno\":4294967296,\"message\":\"\"},\"failure\":\"fatal\"}}",
       "\"errno\": is out of range"},
      {"{\"fail\":{\"error\":{\"code\":\"io\",\"errno\":0},\"failure\":\"fatal\"}}", "missing field \"message\""},
      {"{\"fail\":{\"error\":{\"code\":\"io\",\"errno\":0,\"message\":7},\"failure\":\"fatal\"}}",
       "\"message\": must be a string"},
      {"{\"fail\":{\"failure\":\"fatal\"}}", "missing field \"error\""},
      {"{\"progress\":{\"downloaded\":1,\"total\":2,\"x\":[[[[[[[[[[[[1]]]]]]]]]]]]}}", "nested deeper"},
      {"{\"done\":{\"downloaded\":1,\"size\":2,\"checksum_verified\":true}}" + std::string(kMaxReportLine, ' '),
       "longer than"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.line);
    check_refused(parse_report_line(c.line), c.named);
  }
}

TEST_CASE("malformed requests are refused, each with a named protocol error") {
  auto good = format_request(full_request());
  REQUIRE(good.ok());
  REQUIRE(parse_request(*good).ok());
  // Edits of a good request, each breaking one rule.
  auto edit = [&](const std::string& from, const std::string& to) {
    std::string s = *good;
    size_t at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
  struct Case {
    std::string text, named;
  };
  const Case cases[] = {
      {"--url=https://x", "not valid JSON"},
      {*good + "{}", "not valid JSON"},
      {"[]", "must be an object"},
      {edit("\"parent\":", "\"pid\":"), "unknown field \"pid\""},
      {edit("\"max_redirects\":", "\"max_hops\":"), "\"download\": unknown field \"max_hops\""},
      {edit("\"ca_file\":", "\"ca\":"), "\"transport\": unknown field \"ca\""},
      {edit("\"max_entries\":3", "\"max_entries\":\"3\""), "\"max_entries\": must be a number"},
      {edit("\"max_entries\":3", "\"max_entries\":3.0"), "\"max_entries\": must be a whole number"},
      {edit("\"max_entries\":3", "\"max_entries\":1e999"), "number overflow"},
      {edit("\"max_entries\":3", "\"max_entries\":2147483648"), "\"max_entries\": is out of range"},
      {edit("\"max_bytes\":", "\"max_bytes\":-"), "\"max_bytes\": is out of range"},
      {edit("\"release\":\"5.4.0-26-generic\",", ""), "missing field \"release\""},
      {edit("\"sums_cache\":", "\"sums_cache\":null,\"x\":"), "\"sums_cache\": must be a string"},
      {edit("\"auth\":\"bearer\"", "\"auth\":\"digest\""), "\"auth\": must be"},
      {edit("\"kind\":\"archive\"", "\"kind\":\"tarball\""), "\"kind\": must be"},
      {edit("\"proxy\":\"\"", "\"proxy\":false"), "\"proxy\": must be a string"},
      {edit("\"url\":", "\"url\":\"a\",\"url\":"), "\"url\" twice"},
      {edit("\"release\":\"5.4.0-26-generic\"", "\"release\":\"\""), "must not be empty"},
      {edit("\"transport\":{", "\"transport\":{\"x\":[[[[[[[[[[1]]]]]]]]]],"), "nested deeper"},
      {std::string(kMaxRequestBytes + 1, ' '), "larger than"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    check_refused(parse_request(c.text), c.named);
  }
}

TEST_CASE("a request too large to read is refused before it is parsed") {
  TempDir dir;
  btfd::test::write_text(dir / "big", std::string(kMaxRequestBytes + 100, ' '));
  UniqueFd fd(::open((dir / "big").c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(fd);
  check_refused(read_request(fd.get()), "larger than");
  auto good = format_request(full_request());
  REQUIRE(good.ok());
  btfd::test::write_text(dir / "good", *good);
  UniqueFd g(::open((dir / "good").c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(g);
  auto back = read_request(g.get());
  REQUIRE(back.ok());
  check_same_request(*back, full_request());
}

TEST_CASE("the real btfd-fetch fetches a fixture archive, checks it against SHA256SUMS and reports") {
  std::string helper = btfd::test::build_root() + "/daemon/btfd-fetch";
  REQUIRE_MESSAGE(::access(helper.c_str(), X_OK) == 0, (helper + " is built with unit-hub"));
  std::string hub = "file://" + btfd::test::source_root() + "/tests/data/btfhub";
  const std::string entry = "ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz";
  TempDir staging;
  AttemptRequest req = test_request(staging.path());
  req.url = hub + "/" + entry;
  req.release = "5.4.0-26-generic";
  req.sums_url = hub + "/SHA256SUMS";
  req.sums_entry = entry;
  auto r = run(helper, req);
  REQUIRE_MESSAGE(r.result.ok(), r.result.error().message);
  CHECK(r.failure == FetchFailure::none);
  CHECK(r.result->checksum_verified);
  CHECK(r.result->downloaded > 0);
  CHECK(r.result->size == r.output.size());
  CHECK(r.output.size() > r.result->downloaded);  // unpacked: raw BTF is larger than its .tar.xz
  // A kernel the mirror does not have: the helper's own classification comes through.
  req.url = hub + "/ubuntu/20.04/x86_64/9.9.9-no-such.btf.tar.xz";
  req.release = "9.9.9-no-such";
  req.sums_entry.clear();
  auto missing = run(helper, req);
  REQUIRE_FALSE(missing.result.ok());
  CHECK(missing.failure == FetchFailure::not_found);
  CHECK(missing.result.error().code != Errc::protocol);
  // Run by hand (arguments, no request): it refuses and starts nothing.
  TempDir dir;
  auto by_hand = run(script(dir, "by-hand", "exec " + helper + " --url=x </dev/null"));
  REQUIRE_FALSE(by_hand.result.ok());
  CHECK(by_hand.result.error().message.find("without a valid report") != std::string::npos);
}

namespace {
// The "Seccomp_filters:" count of a process's status (-1: no such process or field).
int seccomp_filters(const std::string& pid) {
  std::ifstream status("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("Seccomp_filters:", 0) == 0) return std::atoi(line.c_str() + 16);
  return -1;
}

// The pid of a btfd-fetch child of this process, or "".
std::string fetch_child() {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    std::ifstream stat(e.path() / "stat");
    std::string pid, comm, state;
    long ppid = 0;
    if (stat >> pid >> comm >> state >> ppid && ppid == ::getpid() && comm == "(btfd-fetch)") return pid;
  }
  return "";
}
}  // namespace

TEST_CASE("the real btfd-fetch is under a filter of its own (no new processes) before it reads what a mirror sends") {
  using namespace std::chrono_literals;
  std::string helper = btfd::test::build_root() + "/daemon/btfd-fetch";
  REQUIRE_MESSAGE(::access(helper.c_str(), X_OK) == 0, (helper + " is built with unit-hub"));
  const int ours = seccomp_filters("self");
  REQUIRE_MESSAGE(ours >= 0, "this kernel's /proc/PID/status has Seccomp_filters");
  // The "archive" is a FIFO: the helper's first read of it blocks until this
  // test writes, so its state is looked at before anything reached it.
  TempDir dir, staging;
  std::string fifo = dir / "5.4.0-1.btf.tar.xz";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  AttemptRequest req = test_request(staging.path(), 20000);
  req.url = "file://" + fifo;
  UniqueFd out(::memfd_create("out", MFD_CLOEXEC));
  REQUIRE(out);
  Result<AttemptResult> result = make_error(Errc::internal, "not run");
  FetchFailure failure = FetchFailure::none;
  std::thread fetch([&] { result = fetch_helper_attempt(helper, 300ms)(req, out.get(), {}, &failure); });
  std::string pid;
  int filters = -1;
  for (auto until = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < until;) {
    if (pid.empty()) pid = fetch_child();
    if (!pid.empty()) filters = seccomp_filters(pid);
    if (filters > ours) break;
    std::this_thread::sleep_for(5ms);
  }
  // Whatever was seen, the helper is let go: junk, then end of file.
  UniqueFd w(::open(fifo.c_str(), O_WRONLY | O_CLOEXEC));
  REQUIRE(w);
  REQUIRE(write_all(w.get(), std::string(100, 'x')).ok());
  w.reset();
  fetch.join();
  CHECK_MESSAGE(!pid.empty(), "a btfd-fetch child was seen");
  CHECK_MESSAGE(filters > ours, "btfd-fetch " << pid << " has " << filters << " seccomp filters, this test " << ours);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == Errc::corrupt);
}

TEST_CASE("credentials files: one line, trimmed; errors name the file, never its contents") {
  TempDir dir;
  Transport t;
  t.auth = "bearer";
  t.auth_file = dir / "token";
  btfd::test::write_text(t.auth_file, "s3cret-token\n");
  auto ok = read_credentials(t);
  REQUIRE(ok.ok());
  CHECK(*ok == "s3cret-token");
  btfd::test::write_text(t.auth_file, "s3cret\ninjected: header\n");
  auto two = read_credentials(t);
  REQUIRE_FALSE(two.ok());
  CHECK(two.error().message.find(t.auth_file) != std::string::npos);
  CHECK(two.error().message.find("s3cret") == std::string::npos);
  t.auth = "basic";
  btfd::test::write_text(t.auth_file, "no-colon-password\n");
  auto basic = read_credentials(t);
  REQUIRE_FALSE(basic.ok());
  CHECK(basic.error().message.find("no-colon-password") == std::string::npos);
  t.auth_file = dir / "missing";
  CHECK_FALSE(read_credentials(t).ok());
}

TEST_CASE("the SHA256SUMS cache keeps validators and text in one file") {
  Validators v{"\"abc\"", "Tue, 24 Nov 2026 09:00:00 GMT"};
  std::string text = std::string(64, 'a') + "  ./ubuntu/20.04/x86_64/x.btf.tar.xz\n";
  auto back = parse_sums_cache(format_sums_cache(v, text));
  REQUIRE(back);
  CHECK(back->first.etag == v.etag);
  CHECK(back->first.last_modified == v.last_modified);
  CHECK(back->second == text);
  CHECK_FALSE(parse_sums_cache("btfd-sums 2\nx\ny\n"));
  CHECK_FALSE(parse_sums_cache("btfd-sums 1\n\n\nno validators"));
  CHECK_FALSE(parse_sums_cache("btfd-sums 1\n"));
  CHECK(sums_cache_path("/c", "https://a/SHA256SUMS") != sums_cache_path("/c", "https://b/SHA256SUMS"));
}

TEST_CASE("SHA256SUMS lines are found by path, in sha256sum's text and binary forms") {
  std::string a(64, 'a'), b(64, 'B'), c(64, 'c');
  std::string sums = a + "  ./ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz\n" + b +
                     " *centos/8/x86_64/4.18.0-80.el8.x86_64.btf.tar.xz\r\n" + "garbage line\n" + c.substr(0, 63) +
                     "  short/hash.btf.tar.xz\n" + std::string(64, 'z') + "  not/hex.btf.tar.xz\n";
  CHECK(find_checksum(sums, "ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz") == a);
  CHECK(find_checksum(sums, "centos/8/x86_64/4.18.0-80.el8.x86_64.btf.tar.xz") == std::string(64, 'b'));
  CHECK_FALSE(find_checksum(sums, "debian/10/x86_64/4.19.0-17-amd64.btf.tar.xz"));
  CHECK_FALSE(find_checksum(sums, "short/hash.btf.tar.xz"));
  CHECK_FALSE(find_checksum(sums, "not/hex.btf.tar.xz"));
  CHECK_FALSE(find_checksum("", "x"));
}

TEST_CASE("the digest a helper try yields is btfd's own, of the bytes it checked, never the helper's word") {
  TempDir dir;
  std::string btf = kernel_btf_file(dir);
  auto bytes = read_file(btf, 1 << 20);
  REQUIRE(bytes.ok());
  auto ok = run(script(dir, "ok", "cat " + btf + " >&3\ncat " +
                                      lines_file(dir, "ok-report", {format_done({100, size_of(btf), true})}) + " >&4"));
  REQUIRE(ok.result.ok());
  REQUIRE(ok.result->checked_digest);
  CHECK(*ok.result->checked_digest == sha256(*bytes));
  // A helper cannot hand btfd a digest: the report has no such field, and a
  // done record that carries one is a broken protocol, not a success.
  std::string done = format_done({100, size_of(btf), true});
  REQUIRE(done.size() > 2);
  std::string forged = done.substr(0, done.size() - 3) + ",\"checked_digest\":\"" + std::string(64, '0') + "\"}}\n";
  auto f = run(script(dir, "forged", "cat " + btf + " >&3\ncat " + lines_file(dir, "forged-report", {forged}) + " >&4"));
  REQUIRE_FALSE(f.result.ok());
  CHECK(f.result.error().code == Errc::protocol);
  // Output that is not a kernel's BTF has no digest to give: it is refused.
  auto junk = run(script(dir, "junk", "printf 'BTF!' >&3\ncat " +
                                          lines_file(dir, "junk-report", {format_done({100, 4, true})}) + " >&4"));
  REQUIRE_FALSE(junk.result.ok());
  CHECK(junk.failure == FetchFailure::payload);
}

TEST_CASE("the real btfd-fetch leaves the check to btfd, which refuses an archive holding no kernel BTF") {
  std::string helper = btfd::test::build_root() + "/daemon/btfd-fetch";
  REQUIRE_MESSAGE(::access(helper.c_str(), X_OK) == 0, (helper + " is built with unit-hub"));
  TempDir dir;
  // A well-formed archive whose one member is the expected name but holds
  // junk: libarchive unpacks it fine, only the BTF check can refuse it.
  std::string tree = dir / "tree";
  REQUIRE(::mkdir(tree.c_str(), 0755) == 0);
  btfd::test::write_text(tree + "/5.4.0-1.btf", std::string(4096, 'x'));
  std::string archive = dir / "junk.btf.tar.xz";
  REQUIRE(std::system(("tar -C " + tree + " -cJf " + archive + " 5.4.0-1.btf").c_str()) == 0);
  TempDir staging;
  AttemptRequest req = test_request(staging.path());
  req.url = "file://" + archive;
  auto r = run(helper, req);
  REQUIRE_FALSE(r.result.ok());
  CHECK(r.result.error().code == Errc::corrupt);
  CHECK(r.failure == FetchFailure::payload);
  CHECK_MESSAGE(r.result.error().message.find("output of the fetch helper") != std::string::npos,
                r.result.error().message);
  // The fixture kernel through the same path: its digest is that of the output.
  std::string hub = "file://" + btfd::test::source_root() + "/tests/data/btfhub";
  req.url = hub + "/ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz";
  req.release = "5.4.0-26-generic";
  auto good = run(helper, req);
  REQUIRE_MESSAGE(good.result.ok(), good.result.error().message);
  REQUIRE(good.result->checked_digest);
  CHECK(*good.result->checked_digest ==
        sha256(std::span(reinterpret_cast<const uint8_t*>(good.output.data()), good.output.size())));
}

TEST_CASE("a SHA256SUMS cache file a crash left torn or changed reads as no cache") {
  Validators v{"\"abc\"", ""};
  std::string text = std::string(64, 'a') + "  ./ubuntu/20.04/x86_64/x.btf.tar.xz\n" + std::string(64, 'b') +
                     "  ./debian/10/x86_64/y.btf.tar.xz\n";
  std::string file = format_sums_cache(v, text);
  REQUIRE(parse_sums_cache(file));
  // Cut anywhere in the list: the entry that was cut off must not go unchecked.
  for (size_t cut : {file.size() - 1, file.size() - 40, file.size() - text.size() + 1})
    CHECK_FALSE(parse_sums_cache(file.substr(0, cut)));
  std::string changed = file;
  changed[changed.size() - 5] ^= 1;
  CHECK_FALSE(parse_sums_cache(changed));
  // The version that had no digest is not trusted either.
  CHECK_FALSE(parse_sums_cache("btfd-sums 1\n\"abc\"\n\n" + text));
}
