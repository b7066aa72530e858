// SPDX-License-Identifier: GPL-2.0-or-later
#include "hub/attempt.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include "hub/btf_check.hpp"
#include "util/fd.hpp"
#include "util/sha256.hpp"

namespace btfd::hub {
namespace {

// An unnamed temp file: the kernel removes it however we exit.
Result<UniqueFd> staging_file(const std::string& dir_opt) {
  std::string dir = dir_opt;
  if (dir.empty()) {
    const char* t = std::getenv("TMPDIR");
    dir = t && *t ? t : "/var/tmp";
  }
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return UniqueFd(fd);
  std::string tmpl = dir + "/btfd-download-XXXXXX";
  fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return sys_error(errno, "cannot create a download file in \"" + dir + "\"");
  ::unlink(tmpl.c_str());
  return UniqueFd(fd);
}

constexpr uint64_t kMaxSums = 16ull << 20;

// Checks the staged archive against the mirror's SHA256SUMS, if it has one.
Result<bool> verify_checksum(const AttemptRequest& req, int archive_fd, FetchFailure* failure) {
  BTFD_TRY(UniqueFd sums_fd, staging_file(req.temp_dir));
  DownloadLimits limits = req.download;
  limits.max_bytes = kMaxSums;
  FetchFailure f = FetchFailure::fatal;
  auto dl = download(req.sums_url, sums_fd.get(), limits, {}, &f);
  if (!dl) {
    if (f == FetchFailure::not_found) return false;  // this mirror publishes no checksums
    *failure = f;
    return std::move(dl).error().wrap("checksums");
  }
  BTFD_TRY(auto text, pread_all(sums_fd.get(), kMaxSums));
  auto want = find_checksum(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()), req.sums_entry);
  if (!want) return false;
  BTFD_TRY(Digest got, sha256_fd(archive_fd));
  if (to_hex(got) != *want) {
    *failure = FetchFailure::payload;
    return make_error(Errc::corrupt, "\"" + req.url + "\" does not match the mirror's SHA256SUMS (got " + to_hex(got) +
                                         ", listed " + *want + ")");
  }
  return true;
}

}  // namespace

std::optional<std::string> find_checksum(std::string_view sums, std::string_view entry) {
  while (!sums.empty()) {
    size_t nl = sums.find('\n');
    std::string_view line = sums.substr(0, nl);
    sums = nl == std::string_view::npos ? std::string_view() : sums.substr(nl + 1);
    if (line.size() < 66 || line[64] != ' ') continue;
    std::string_view path = line.substr(65);
    if (!path.empty() && (path[0] == ' ' || path[0] == '*')) path.remove_prefix(1);
    while (path.substr(0, 2) == "./") path.remove_prefix(2);
    if (!path.empty() && path.back() == '\r') path.remove_suffix(1);
    if (path != entry) continue;
    std::string hex(line.substr(0, 64));
    for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (hex.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
    return hex;
  }
  return std::nullopt;
}

Result<AttemptResult> attempt_in_process(const AttemptRequest& req, int out_fd, const ProgressFn& progress,
                                         FetchFailure* failure) {
  *failure = FetchFailure::fatal;
  BTFD_TRY(UniqueFd staging, staging_file(req.temp_dir));
  BTFD_TRY(DownloadResult dl, download(req.url, staging.get(), req.download, progress, failure));
  bool verified = false;
  if (!req.sums_url.empty()) {
    BTFD_TRY(verified, verify_checksum(req, staging.get(), failure));
  }
  *failure = FetchFailure::payload;  // from here on: another mirror may do better
  if (::ftruncate(out_fd, 0) < 0 || ::lseek(out_fd, 0, SEEK_SET) < 0)
    return sys_error(errno, "cannot reset the output file");
  auto size = extract_btf(staging.get(), req.release, out_fd, req.extract);
  if (!size) return std::move(size).error().wrap("\"" + req.url + "\"");
  if (auto st = check_kernel_btf_fd(out_fd, req.extract.max_output_bytes); !st)
    return std::move(st).error().wrap("\"" + req.url + "\"");
  *failure = FetchFailure::none;
  return AttemptResult{dl.bytes, *size, verified};
}

}  // namespace btfd::hub
