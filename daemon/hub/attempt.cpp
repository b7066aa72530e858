// SPDX-License-Identifier: GPL-2.0-or-later
#include "hub/attempt.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include "hub/btf_check.hpp"
#include "util/fd.hpp"

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

}  // namespace

Result<AttemptResult> attempt_in_process(const AttemptRequest& req, int out_fd, const ProgressFn& progress,
                                         FetchFailure* failure) {
  *failure = FetchFailure::fatal;
  BTFD_TRY(UniqueFd staging, staging_file(req.temp_dir));
  BTFD_TRY(DownloadResult dl, download(req.url, staging.get(), req.download, progress, failure));
  *failure = FetchFailure::payload;  // from here on: another mirror may do better
  if (::ftruncate(out_fd, 0) < 0 || ::lseek(out_fd, 0, SEEK_SET) < 0)
    return sys_error(errno, "cannot reset the output file");
  auto size = extract_btf(staging.get(), req.release, out_fd, req.extract);
  if (!size) return std::move(size).error().wrap("\"" + req.url + "\"");
  if (auto st = check_kernel_btf_fd(out_fd, req.extract.max_output_bytes); !st)
    return std::move(st).error().wrap("\"" + req.url + "\"");
  *failure = FetchFailure::none;
  return AttemptResult{dl.bytes, *size};
}

}  // namespace btfd::hub
