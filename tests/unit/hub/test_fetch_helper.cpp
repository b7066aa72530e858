// SPDX-License-Identifier: GPL-2.0-or-later
// The daemon's side of the btfd-fetch protocol, driven by small shell scripts
// standing in for the helper: they are real child processes that write to
// fd 3 and report on fd 4 exactly as btfd-fetch does, or misbehave.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

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

Run run(const std::string& helper, long timeout_ms = 5000) {
  using namespace std::chrono_literals;
  TempDir out_dir;
  UniqueFd out(::open((out_dir / "out").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  REQUIRE(out);
  AttemptRequest req;
  req.url = "http://127.0.0.1:1/x.btf.tar.xz";
  req.release = "5.4.0-1";
  req.temp_dir = out_dir.path();
  req.download.total_timeout_ms = timeout_ms;
  Run r;
  r.result = fetch_helper_attempt(helper, 300ms)(req, out.get(), [&](const Progress& p) { r.progress.push_back(p); },
                                          &r.failure);
  auto bytes = pread_all(out.get(), 1 << 20);
  REQUIRE(bytes.ok());
  r.output.assign(bytes->begin(), bytes->end());
  return r;
}
}  // namespace

TEST_CASE("a helper that writes the output and reports done succeeds, with progress on the way") {
  TempDir dir;
  std::string btf = kernel_btf_file(dir), n = std::to_string(size_of(btf));
  auto r = run(script(dir, "ok", "cat " + btf + " >&3\nprintf 'progress 10 100\\nprogress 100 100\\ndone 100 " + n +
                                     " 1\\n' >&4"));
  REQUIRE(r.result.ok());
  CHECK(r.result->downloaded == 100);
  CHECK(r.result->size == size_of(btf));
  CHECK(r.result->checksum_verified);
  CHECK(r.output.size() == size_of(btf));
  REQUIRE(r.progress.size() == 2);
  CHECK(r.progress[1].downloaded == 100);
  CHECK(r.failure == FetchFailure::none);
}

TEST_CASE("the helper's output is checked, not taken on its word") {
  TempDir dir;
  auto junk = run(script(dir, "junk", "printf 'BTF!' >&3\nprintf 'done 100 4 1\\n' >&4"));
  REQUIRE_FALSE(junk.result.ok());
  CHECK(junk.result.error().code == Errc::corrupt);
  CHECK(junk.failure == FetchFailure::payload);
  std::string btf = kernel_btf_file(dir);
  auto lies = run(script(dir, "lies", "cat " + btf + " >&3\nprintf 'done 100 7 1\\n' >&4"));
  REQUIRE_FALSE(lies.result.ok());
  CHECK(lies.result.error().message.find("reported 7 bytes") != std::string::npos);
}

TEST_CASE("a reported failure keeps its error code, retry class and message") {
  TempDir dir;
  auto r = run(script(dir, "nf", "printf 'fail not-in-hub not-found 0 no such file: x\\n' >&4; exit 1"));
  REQUIRE_FALSE(r.result.ok());
  CHECK(r.result.error().code == Errc::not_in_hub);
  CHECK(r.result.error().message == "no such file: x");
  CHECK(r.failure == FetchFailure::not_found);
  auto t = run(script(dir, "tr", "printf 'fail timeout transient 110 stalled\\n' >&4; exit 1"));
  REQUIRE_FALSE(t.result.ok());
  CHECK(t.result.error().code == Errc::timeout);
  CHECK(t.result.error().sys_errno == 110);
  CHECK(t.failure == FetchFailure::transient);
  // A full disk where the helper writes: the daemon's to fix, not the mirror's.
  auto full = run(script(dir, "full", "printf 'fail no-space local 28 write: No space left on device\\n' >&4; exit 1"));
  REQUIRE_FALSE(full.result.ok());
  CHECK(full.result.error().code == Errc::no_space);
  CHECK(full.result.error().sys_errno == 28);
  CHECK(full.failure == FetchFailure::local);
  CHECK(format_fail(full.result.error(), FetchFailure::local) ==
        "fail no-space local 28 write: No space left on device\n");
}

TEST_CASE("a helper that crashes costs one try, as a bad payload") {
  TempDir dir;
  auto r = run(script(dir, "segv", "printf 'progress 1 2\\n' >&4; kill -SEGV $$"));
  REQUIRE_FALSE(r.result.ok());
  CHECK(r.result.error().code == Errc::corrupt);
  CHECK(r.result.error().message.find("signal 11") != std::string::npos);
  CHECK(r.failure == FetchFailure::payload);
}

TEST_CASE("garbage, silence, a hang and a missing helper are errors, never successes") {
  TempDir dir;
  auto g = run(script(dir, "garbage", "printf 'done lots\\n' >&4"));
  REQUIRE_FALSE(g.result.ok());
  CHECK(g.result.error().code == Errc::internal);
  auto s = run(script(dir, "silent", "exit 0"));
  REQUIRE_FALSE(s.result.ok());
  CHECK(s.result.error().message.find("without a valid report") != std::string::npos);
  auto flood = run(script(dir, "flood", "head -c 200000 /dev/zero | tr '\\\\0' x >&4"));
  REQUIRE_FALSE(flood.result.ok());
  CHECK(flood.result.error().code == Errc::internal);
  auto hang = run(script(dir, "hang", "printf 'progress 1 2\\n' >&4; exec sleep 60"), 0);
  REQUIRE_FALSE(hang.result.ok());
  CHECK(hang.result.error().code == Errc::timeout);
  auto linger = run(script(dir, "linger", "exec 4>&-; exec sleep 60"), 0);  // closes its report, stays
  REQUIRE_FALSE(linger.result.ok());
  CHECK(linger.result.error().code == Errc::timeout);
  auto m = run(dir / "does-not-exist");
  REQUIRE_FALSE(m.result.ok());
  CHECK(m.result.error().message.find("cannot start the fetch helper") != std::string::npos);
}

TEST_CASE("the helper's arguments round-trip") {
  AttemptRequest req;
  req.url = "https://mirror.example/x.btf.tar.xz";
  req.release = "5.4.0-26-generic";
  req.temp_dir = "/var/cache/btfd";
  req.sums_url = "https://mirror.example/SHA256SUMS";
  req.sums_entry = "ubuntu/20.04/x86_64/5.4.0-26-generic.btf.tar.xz";
  req.download.max_bytes = 12345;
  req.extract.max_entries = 3;
  auto args = helper_args("/usr/libexec/btfd/btfd-fetch", req);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  auto back = parse_helper_args(static_cast<int>(argv.size()), argv.data());
  REQUIRE(back.ok());
  CHECK(back->url == req.url);
  CHECK(back->release == req.release);
  CHECK(back->temp_dir == req.temp_dir);
  CHECK(back->sums_url == req.sums_url);
  CHECK(back->sums_entry == req.sums_entry);
  CHECK(back->download.max_bytes == 12345);
  CHECK(back->extract.max_entries == 3);
  char bad0[] = "btfd-fetch", bad1[] = "--max-bytes=lots";
  char* bad[] = {bad0, bad1};
  CHECK_FALSE(parse_helper_args(2, bad).ok());
  CHECK_FALSE(back->transport.proxy);  // unset stays unset: libcurl's default
  CHECK_FALSE(back->transport.no_proxy);
}

TEST_CASE("the helper's arguments carry the mirror's transport, and name credentials only by file") {
  AttemptRequest req;
  req.url = "https://mirror.example/x.btf.tar.xz";
  req.release = "5.4.0-26-generic";
  req.transport.proxy = "";  // set, to nothing: no proxy even if the environment names one
  req.transport.no_proxy = "localhost,.internal";
  req.transport.ca_file = "/etc/btfd/site-ca.pem";
  req.transport.client_cert = "/etc/btfd/client.pem";
  req.transport.client_key = "/run/credentials/btfd.service/client-key";
  req.transport.auth = "bearer";
  req.transport.auth_file = "/run/credentials/btfd.service/hub-token";
  req.transport.proxy_auth_file = "/run/credentials/btfd.service/proxy-auth";
  req.sums_cache = "/var/cache/btfd/sums";
  auto args = helper_args("btfd-fetch", req);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  auto back = parse_helper_args(static_cast<int>(argv.size()), argv.data());
  REQUIRE(back.ok());
  CHECK(back->transport == req.transport);
  CHECK(back->sums_cache == req.sums_cache);
  REQUIRE(back->transport.proxy);
  CHECK(back->transport.proxy->empty());
  std::string bad_auth = "--auth=digest";
  char prog[] = "btfd-fetch";
  char* bad[] = {prog, bad_auth.data()};
  CHECK_FALSE(parse_helper_args(2, bad).ok());
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
