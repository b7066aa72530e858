// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// One try at one mirror: download the archive while unpacking its single
// <release>.btf into the output as it arrives, check it against the mirror's
// SHA256SUMS, check that it is a kernel BTF. The Hub runs
// tries through an AttemptFn so the daemon can run them in btfd-fetch, a
// child process (see fetch_helper.hpp), while tools and tests run them here.

#include <cstdlib>
#include <functional>
#include <optional>
#include <string_view>
#include <string>

#include "hub/archive_reader.hpp"
#include "hub/http_fetch.hpp"
#include "util/sha256.hpp"

namespace btfd::hub {

// What a try fetches: a mirror's archive holding a kernel's BTF, or a
// debuginfod server's debug file (a plain download into the output, up to
// download.max_bytes; release then holds the build-id). btfd checks the
// debug file itself (its build-id) before pahole reads it.
inline constexpr const char* kKindArchive = "archive";
inline constexpr const char* kKindDebuginfo = "debuginfo";

struct AttemptRequest {
  std::string kind = kKindArchive;
  std::string url;
  std::string release;
  DownloadLimits download;
  ExtractLimits extract;
  std::string temp_dir;  // where the archive is staged; "" = $TMPDIR or /var/tmp
  // The mirror's SHA256SUMS and the archive's path in it ("" = do not check).
  // A mirror without the file is accepted; one that lists the archive with a
  // different digest is not.
  std::string sums_url;
  std::string sums_entry;
  Transport transport;  // proxy, CA, client certificate, credentials for this mirror
  // A directory where SHA256SUMS files are kept between tries with their
  // validators, so that the next try asks "changed since?" and a fleet does
  // not download the same list for every kernel ("" = always download it).
  std::string sums_cache;
  // Whether the try checks its output (check_kernel_btf) before it reports
  // success. Not part of the helper protocol: btfd-fetch turns it off because
  // the daemon checks the output itself (fetch_helper.cpp's judge), and a
  // second pass over the same bytes would only cost time.
  bool check_output = true;
};

struct AttemptResult {
  AttemptResult() = default;
  // What a report carries (checked_digest never is: see below).
  AttemptResult(uint64_t downloaded_bytes, uint64_t btf_size, bool verified)
      : downloaded(downloaded_bytes), size(btf_size), checksum_verified(verified) {}
  uint64_t downloaded = 0;  // compressed bytes transferred
  uint64_t size = 0;        // raw BTF bytes written to the output
  bool checksum_verified = false;  // the mirror's SHA256SUMS listed the archive and it matched
  // The SHA-256 of the output as btfd itself read and checked it (set by the
  // daemon's side of a helper try, never taken from a helper's report), for
  // the store to record without hashing the file again; unset otherwise.
  std::optional<Digest> checked_digest;
};

// The digest SHA256SUMS text gives for entry ("<hex>  [./]path" or "<hex> *path"
// lines), if it lists it.
std::optional<std::string> find_checksum(std::string_view sums, std::string_view entry);

// The cache file of one SHA256SUMS URL: "btfd-sums 2\n<etag>\n<last-modified>\n<sha256
// of the list>\n" then the list. One file, replaced atomically (not durably: the
// digest catches a file a crash left torn), so validators always match the text.
std::string sums_cache_path(const std::string& dir, const std::string& sums_url);
std::string format_sums_cache(const Validators& v, std::string_view text);
// The validators and the list, or nothing for a missing or malformed file.
std::optional<std::pair<Validators, std::string>> parse_sums_cache(std::string_view file);

// On failure *failure says whether another try (transient), another mirror
// (not_found, fatal) or nothing helps.
using AttemptFn =
    std::function<Result<AttemptResult>(const AttemptRequest&, int out_fd, const ProgressFn&, FetchFailure* failure)>;

// A full disk while staging or writing the output fails as Errc::no_space with
// *failure local, wherever it happens (see FetchFailure::local). progress is
// called on the thread that downloads (not the caller's; never two at once),
// and not after the call returns.
Result<AttemptResult> attempt_in_process(const AttemptRequest& req, int out_fd, const ProgressFn& progress,
                                         FetchFailure* failure);

// Where a try stages its downloads: temp_dir, else $TMPDIR, else /var/tmp.
// Inline: the daemon names it in errors, and must not link attempt.cpp (and
// with it libcurl and libarchive) for that.
inline std::string staging_dir(const std::string& temp_dir) {
  if (!temp_dir.empty()) return temp_dir;
  const char* t = std::getenv("TMPDIR");
  return t && *t ? t : "/var/tmp";
}

}  // namespace btfd::hub
