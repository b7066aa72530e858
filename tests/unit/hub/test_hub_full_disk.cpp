// SPDX-License-Identifier: GPL-2.0-or-later
// A full disk while a download is written is the cache's problem, never the
// mirror's: Errc::no_space naming where, no retry, no other mirror, nothing
// in the mirror's stats or circuit, and the partial output given back.
// Tries are stand-ins (AttemptFn) failing as btfd-fetch reports a full disk.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <map>

#include "hub/hub.hpp"
#include "support/temp_dir.hpp"
#include "util/fd.hpp"

using namespace btfd;
using namespace btfd::hub;
using btfd::test::TempDir;

namespace {

const KernelIdentity kKernel{"ubuntu", "20.04", "x86_64", "5.4.0-26-generic"};

struct FullDisk {
  std::map<std::string, int> tries;  // by URL
  FetchFailure reported = FetchFailure::local;

  AttemptFn attempt() {
    return [this](const AttemptRequest& req, int out_fd, const ProgressFn&, FetchFailure* failure) -> Result<AttemptResult> {
      ++tries[req.url];
      // Half an output written, as an extraction that ran out of room leaves it.
      REQUIRE(write_all(out_fd, std::string_view("BTF half written")).ok());
      *failure = reported;
      return sys_error(ENOSPC, "\"" + req.url + "\": write");
    };
  }
};

Options two_mirrors(const std::string& temp_dir) {
  Options o;
  o.mirrors = {"http://127.0.0.1:1/first", "http://127.0.0.1:1/second"};
  o.max_attempts = 3;
  o.backoff_initial_ms = 1;
  o.breaker_threshold = 1;  // one counted failure would open the circuit
  o.temp_dir = temp_dir;
  return o;
}

}  // namespace

TEST_CASE("a full disk fails as no_space naming the cache directory, and never counts against the mirror") {
  for (FetchFailure reported : {FetchFailure::local, FetchFailure::fatal}) {
    // fatal: a helper that does not classify a full disk (an older btfd-fetch) counts the same.
    CAPTURE(static_cast<int>(reported));
    TempDir dir;
    FullDisk disk;
    disk.reported = reported;
    Hub hub(two_mirrors(dir.path()), disk.attempt());
    auto out = open_file(dir.path(), O_TMPFILE | O_RDWR, 0600);
    REQUIRE(out.ok());
    for (int call = 0; call < 4; ++call) {
      auto r = hub.fetch(kKernel, out->get());
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == Errc::no_space);
      CHECK(r.error().message.find("\"" + dir.path() + "\" is full") != std::string::npos);
      CHECK(r.error().message.find(kKernel.to_string()) != std::string::npos);
      CHECK(r.error().message.find("No space left on device") != std::string::npos);
      auto size = file_size(out->get());
      REQUIRE(size.ok());
      CHECK(*size == 0);  // the partial output is given back at once
    }
    // One try per call: no retry, and the second mirror was never asked.
    CHECK(disk.tries.size() == 1);
    CHECK(disk.tries[Hub::archive_url("http://127.0.0.1:1/first", kKernel)] == 4);
    for (const MirrorStats& m : hub.stats()) {
      CAPTURE(m.base);
      CHECK(m.errors == 0);
      CHECK(m.timeouts == 0);
      CHECK(m.requests == 0);
      CHECK_FALSE(m.open_circuit);
      CHECK(m.healthy());
    }
  }
}
