// SPDX-License-Identifier: GPL-2.0-or-later
// Which mirror entries btfd accepts, and what "healthy" means for them.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include "hub/hub.hpp"
#include "hub/mirror.hpp"
#include "support/temp_dir.hpp"
#include "util/fd.hpp"

using namespace btfd;
using namespace btfd::hub;
using btfd::test::TempDir;

TEST_CASE("mirrors: https, http, file:// and absolute directories; anything else is a configuration error") {
  TempDir dir;
  for (std::string ok : {std::string("https://raw.githubusercontent.com/aquasecurity/btfhub-archive/main"),
                         std::string("http://127.0.0.1:8080/hub"), "file://" + dir.path(), dir.path(),
                         dir.path() + "/"}) {
    CAPTURE(ok);
    CHECK(validate_mirror(ok).ok());
  }
  struct Bad {
    std::string mirror;
    const char* says;
  };
  for (const Bad& b : {Bad{"ftp://mirror.example.com/hub", "unsupported scheme"},
                       Bad{"htps://typo.example.com", "unsupported scheme"},
                       Bad{"raw.githubusercontent.com/aquasecurity/btfhub-archive", "unsupported scheme"},
                       Bad{"https://", "no host"},
                       Bad{"file://relative/dir", "not an absolute directory"},
                       Bad{dir / "missing", "does not exist"},
                       Bad{"file://" + (dir / "missing"), "does not exist"}}) {
    CAPTURE(b.mirror);
    auto st = validate_mirror(b.mirror);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == Errc::invalid_argument);
    CHECK(st.error().message.find(b.says) != std::string::npos);
    CHECK(st.error().message.find(b.mirror) != std::string::npos);
  }
  // Credentials in the URL: refused without repeating them.
  auto creds = validate_mirror("https://alice:s3cret@mirror.example/hub");
  REQUIRE_FALSE(creds.ok());
  CHECK(creds.error().message.find("https://***@mirror.example/hub") != std::string::npos);
  CHECK(creds.error().message.find("BasicAuthFile=") != std::string::npos);
  CHECK(creds.error().message.find("s3cret") == std::string::npos);
  CHECK(url_userinfo("alice:pw@proxy:3128") == "alice:pw@");
  CHECK(url_userinfo("http://proxy:3128/a@b").empty());
  CHECK(url_userinfo(dir.path() + "/a@b").empty());
  test::write_text(dir / "file", "x");
  CHECK(validate_mirror(dir / "file").error().message.find("not a directory") != std::string::npos);
}

TEST_CASE("a local mirror whose directory vanished is unhealthy and is not \"not in hub\"") {
  TempDir dir;
  std::string root = dir / "hub";
  REQUIRE(mkdir_p(root).ok());
  int attempts = 0;
  Options o;
  o.mirrors = {root};
  o.max_attempts = 1;
  Hub hub(o, [&](const AttemptRequest&, int, const ProgressFn&, FetchFailure* failure) -> Result<AttemptResult> {
    ++attempts;
    *failure = FetchFailure::not_found;
    return make_error(Errc::not_found, "404");
  });
  KernelIdentity id{"rhel", "8", "x86_64", "4.18.0-305.el8.x86_64"};
  auto tmp = open_file(dir.path(), O_TMPFILE | O_RDWR, 0600);
  REQUIRE(tmp.ok());
  CHECK(hub.stats()[0].healthy());
  CHECK(hub.fetch(id, tmp->get()).error().code == Errc::not_in_hub);

  REQUIRE(::rmdir(root.c_str()) == 0);
  auto s = hub.stats();
  CHECK_FALSE(s[0].healthy());
  CHECK(s[0].problem.find("does not exist") != std::string::npos);
  auto r = hub.fetch(id, tmp->get());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::unreachable);  // never cached as a miss
  CHECK(r.error().message.find("does not exist") != std::string::npos);
  CHECK(attempts == 1);  // the broken mirror was not asked
}

TEST_CASE("a mirror whose every request fails is not healthy; HubUnreachable names every mirror tried") {
  TempDir dir;
  // Two real mirrors on loopback that refuse connections: they fail fast,
  // too fast to open a circuit, and are still not healthy.
  Options o;
  o.mirrors = {"http://127.0.0.1:1/a", "http://127.0.0.1:1/b"};
  o.max_attempts = 1;
  o.temp_dir = dir.path();
  Hub hub(o, attempt_in_process);
  KernelIdentity id{"rhel", "8", "x86_64", "4.18.0-305.el8.x86_64"};
  auto tmp = open_file(dir.path(), O_TMPFILE | O_RDWR, 0600);
  REQUIRE(tmp.ok());
  CHECK(hub.stats()[0].healthy());
  for (int i = 0; i < 3; ++i) {
    auto r = hub.fetch(id, tmp->get());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::unreachable);
    CHECK(r.error().message.find("none of the 2 mirrors tried could be reached") != std::string::npos);
    CHECK(r.error().message.find("127.0.0.1:1/a") != std::string::npos);
    CHECK(r.error().message.find("127.0.0.1:1/b") != std::string::npos);
  }
  for (const auto& m : hub.stats()) {
    CHECK(m.errors == 3);
    CHECK_FALSE(m.healthy());
    CHECK_FALSE(m.last_failure.empty());
  }
}
