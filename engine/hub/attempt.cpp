// SPDX-License-Identifier: GPL-2.0-or-later
#include "hub/attempt.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include "hub/btf_check.hpp"
#include "util/fd.hpp"
#include "util/sha256.hpp"

namespace btfd::hub {
namespace {

// An unnamed temp file: the kernel removes it however we exit.
Result<UniqueFd> staging_file(const std::string& dir_opt) {
  std::string dir = staging_dir(dir_opt);
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return UniqueFd(fd);
  std::string tmpl = dir + "/btfd-download-XXXXXX";
  fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return sys_error(errno, "cannot create a download file in \"" + dir + "\"");
  ::unlink(tmpl.c_str());
  return UniqueFd(fd);
}

constexpr uint64_t kMaxSums = 16ull << 20;

// The mirror's SHA256SUMS: from the cache when the mirror says it has not
// changed, else downloaded (and cached); nullopt when the mirror has none.
Result<std::optional<std::string>> mirror_sums(const AttemptRequest& req, FetchFailure* failure) {
  std::optional<std::pair<Validators, std::string>> cached;
  std::string cache_path;
  if (!req.sums_cache.empty()) {
    cache_path = sums_cache_path(req.sums_cache, req.sums_url);
    if (auto file = read_text_file(cache_path, kMaxSums + 4096)) cached = parse_sums_cache(*file);
  }
  BTFD_TRY(UniqueFd sums_fd, staging_file(req.temp_dir));
  DownloadLimits limits = req.download;
  limits.max_bytes = kMaxSums;
  FetchFailure f = FetchFailure::fatal;
  auto dl = download(req.sums_url, sums_fd.get(), limits, {}, &f, req.transport, cached ? &cached->first : nullptr);
  if (!dl) {
    if (f == FetchFailure::not_found) {  // this mirror publishes no checksums (any more)
      if (!cache_path.empty()) ::unlink(cache_path.c_str());
      return std::optional<std::string>();
    }
    *failure = f;
    return std::move(dl).error().wrap("checksums");
  }
  if (dl->not_modified && cached) return std::optional<std::string>(std::move(cached->second));
  BTFD_TRY(auto bytes, pread_all(sums_fd.get(), kMaxSums));
  std::string text(bytes.begin(), bytes.end());
  // The cache only saves a transfer: failing to write it costs nothing else.
  // Not fsync'd (two fsyncs were ~9 ms of every fetch on the way to the
  // unpack): a file a crash left torn fails its digest and reads as no cache.
  if (!cache_path.empty() && !dl->validators.empty() && mkdir_p(req.sums_cache, 0755)) {
    std::string file = format_sums_cache(dl->validators, text);
    (void)write_file_atomic(cache_path, std::span(reinterpret_cast<const uint8_t*>(file.data()), file.size()), 0644,
                            Sync::atomic_only);
  }
  return std::optional<std::string>(std::move(text));
}

// The staging file as the download thread writes it, read by the unpacking
// as it grows: how much is there, whether the download ended and how.
class GrowingFile {
 public:
  // The downloader's side: false asks it to stop (the reader gave up).
  bool grew(uint64_t written) {
    std::lock_guard lock(mu_);
    written_ = written;
    cv_.notify_one();
    return !stop_;
  }
  void finish(bool ok) {
    std::lock_guard lock(mu_);
    finished_ = true;
    failed_ = !ok;
    cv_.notify_one();
  }
  void stop() {
    std::lock_guard lock(mu_);
    stop_ = true;
  }

  // The reader's side: the next bytes from *offset, waiting until some are
  // there or the download ended (0 then: the end; an error if it failed).
  Result<size_t> read(int fd, uint64_t* offset, std::span<uint8_t> buf) {
    uint64_t there = 0;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return written_ > *offset || finished_; });
      if (written_ <= *offset) {
        if (failed_) return make_error(Errc::unreachable, "the archive's download ended early");
        return size_t{0};
      }
      there = written_ - *offset;
    }
    size_t want = static_cast<size_t>(std::min<uint64_t>(there, buf.size()));
    for (;;) {
      ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(*offset));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error(errno, "cannot read the downloaded archive");
      if (n == 0) return make_error(Errc::internal, "the downloaded archive is shorter than written");
      *offset += static_cast<uint64_t>(n);
      return static_cast<size_t>(n);
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t written_ = 0;
  bool finished_ = false, failed_ = false, stop_ = false;
};

// The mirror's SHA256SUMS, asked for on a thread of its own once the archive's
// transfer is under way (its first bytes arrived with a success status), so
// that the list's request overlaps the archive's download and unpacking
// instead of following them (~4 ms a fetch from a loopback mirror). Not asked
// before that: a mirror that lacks the kernel costs one request, not two.
// Without a thread to be had, the list is fetched when it is needed.
class SumsFetch {
 public:
  explicit SumsFetch(const AttemptRequest& req) : req_(req) {}
  SumsFetch(const SumsFetch&) = delete;
  SumsFetch& operator=(const SumsFetch&) = delete;
  ~SumsFetch() {
    if (thread_) thread_->join();
  }

  void start() {
    if (started_ || req_.sums_url.empty()) return;
    started_ = true;
    try {
      thread_.emplace([this] { run(); });
    } catch (const std::system_error&) {
      // Fetched in get(), after the archive.
    }
  }

  // The list (nullopt: the mirror has none); on failure *failure classifies it.
  Result<std::optional<std::string>> get(FetchFailure* failure) {
    if (thread_) {
      thread_->join();
      thread_.reset();
    }
    if (!result_) run();
    if (!*result_) *failure = failure_;
    return std::move(*result_);
  }

 private:
  void run() {
    // Nothing may escape a thread: std::terminate would end the try unreported.
    try {
      result_ = mirror_sums(req_, &failure_);
    } catch (const std::exception& e) {
      failure_ = FetchFailure::fatal;
      result_ = make_error(Errc::internal, std::string("checksums: ") + e.what());
    }
  }

  const AttemptRequest& req_;
  bool started_ = false;
  std::optional<std::thread> thread_;
  FetchFailure failure_ = FetchFailure::fatal;
  std::optional<Result<std::optional<std::string>>> result_;
};

// Checks the staged archive against the mirror's SHA256SUMS, if it has one.
Result<bool> verify_checksum(const AttemptRequest& req, SumsFetch& sums, int archive_fd, FetchFailure* failure) {
  BTFD_TRY(auto text, sums.get(failure));
  if (!text) return false;
  auto want = find_checksum(*text, req.sums_entry);
  if (!want) return false;
  BTFD_TRY(Digest got, sha256_fd(archive_fd));
  if (to_hex(got) != *want) {
    *failure = FetchFailure::payload;
    return make_error(Errc::corrupt, "\"" + req.url + "\" does not match the mirror's SHA256SUMS (got " + to_hex(got) +
                                         ", listed " + *want + ")");
  }
  return true;
}

Result<AttemptResult> attempt(const AttemptRequest& req, int out_fd, const ProgressFn& progress,
                              FetchFailure* failure) {
  if (req.kind == kKindDebuginfo) {
    // Streamed to the output file (hundreds of MB: never held in memory),
    // held to download.max_bytes by download().
    if (::ftruncate(out_fd, 0) < 0 || ::lseek(out_fd, 0, SEEK_SET) < 0)
      return sys_error(errno, "cannot reset the output file");
    BTFD_TRY(DownloadResult dl, download(req.url, out_fd, req.download, progress, failure, req.transport));
    BTFD_TRY(uint64_t size, file_size(out_fd));
    *failure = FetchFailure::none;
    return AttemptResult{dl.bytes, size, false};
  }
  BTFD_TRY(UniqueFd staging, staging_file(req.temp_dir));
  if (::ftruncate(out_fd, 0) < 0 || ::lseek(out_fd, 0, SEEK_SET) < 0)
    return sys_error(errno, "cannot reset the output file");
  SumsFetch sums(req);
  // Progress is reported only for a transfer that succeeds so far (2xx, or a
  // file:// mirror's file): the moment to ask for the list too.
  ProgressFn started = [&sums, &progress](const Progress& p) {
    sums.start();
    if (progress) progress(p);
  };
  // The archive downloads on a thread into the staging file (kept: its digest
  // is checked against the list at the end) while this one unpacks what has
  // arrived, as `curl | xz -d | tar -x` does: the unpacking's time hides
  // the transfer's (a 1 MB archive from a loopback mirror: ~5 ms; from a
  // distant mirror: most of the unpacking).
  GrowingFile grown;
  Result<DownloadResult> dl = make_error(Errc::internal, "not downloaded");
  FetchFailure dl_failure = FetchFailure::fatal;
  auto run_download = [&] {
    try {
      dl = download(req.url, staging.get(), req.download, started, &dl_failure, req.transport, nullptr,
                    [&grown](uint64_t n) { return grown.grew(n); });
    } catch (const std::exception& e) {
      dl = make_error(Errc::internal, std::string("download: ") + e.what());
    }
    grown.finish(dl.ok());
  };
  struct Joined {  // however this function ends, the downloader has ended
    std::optional<std::thread> thread;
    ~Joined() {
      if (thread && thread->joinable()) thread->join();
    }
  } downloader;
  try {
    downloader.thread.emplace(run_download);
  } catch (const std::system_error&) {
    run_download();  // no thread: the whole archive first, then the unpacking
  }
  // A failed download's error is the one that counts (a 404's page is no
  // archive, a cut transfer no whole one); an archive refused while it was
  // still arriving stops its download, and its own error counts.
  uint64_t offset = 0;
  *failure = FetchFailure::payload;
  auto size = extract_btf_streamed([&](std::span<uint8_t> buf) { return grown.read(staging.get(), &offset, buf); },
                                   req.release, out_fd, req.extract);
  if (!size) grown.stop();
  if (downloader.thread) downloader.thread->join();
  if (!dl) {
    // Stopped here: the archive was refused before it had all arrived.
    if (dl.error().code == Errc::cancelled && !size) return std::move(size).error().wrap("\"" + req.url + "\"");
    *failure = dl_failure;
    return std::move(dl).error();
  }
  sums.start();  // a transfer too quick to report progress
  // The list was on its way meanwhile; the archive is hostile input whether
  // or not the list names it (a hostile mirror lists its own archives), so
  // reading it first loses nothing, and the try succeeds only once it
  // matched. A mismatch is reported before an unpacking error: it says more
  // about what came.
  bool verified = false;
  if (!req.sums_url.empty()) {
    BTFD_TRY(verified, verify_checksum(req, sums, staging.get(), failure));
  }
  *failure = FetchFailure::payload;  // from here on: another mirror may do better
  if (!size) return std::move(size).error().wrap("\"" + req.url + "\"");
  if (req.check_output) {
    if (auto st = check_kernel_btf_fd(out_fd, req.extract.max_output_bytes); !st)
      return std::move(st).error().wrap("\"" + req.url + "\"");
  }
  *failure = FetchFailure::none;
  return AttemptResult{dl->bytes, *size, verified};
}

}  // namespace

std::string sums_cache_path(const std::string& dir, const std::string& sums_url) {
  return dir + "/" + sha256_hex(std::span(reinterpret_cast<const uint8_t*>(sums_url.data()), sums_url.size())) + ".sums";
}

namespace {
std::string text_digest(std::string_view text) {
  return sha256_hex(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}
}  // namespace

std::string format_sums_cache(const Validators& v, std::string_view text) {
  return "btfd-sums 2\n" + v.etag + "\n" + v.last_modified + "\n" + text_digest(text) + "\n" + std::string(text);
}

std::optional<std::pair<Validators, std::string>> parse_sums_cache(std::string_view file) {
  std::string_view lines[4];
  for (auto& l : lines) {
    size_t nl = file.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;
    l = file.substr(0, nl);
    file.remove_prefix(nl + 1);
  }
  // Version 1 had no digest (it was fsync'd instead): read as no cache.
  if (lines[0] != "btfd-sums 2") return std::nullopt;
  Validators v{std::string(lines[1]), std::string(lines[2])};
  if (v.empty()) return std::nullopt;
  // The file is written without fsync: a crash may leave it torn, and a torn
  // list must not pass for the mirror's (an entry cut off would go unchecked).
  if (lines[3] != text_digest(file)) return std::nullopt;
  return std::pair{std::move(v), std::string(file)};
}

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
  auto r = attempt(req, out_fd, progress, failure);
  // Staging the download, the checksums or writing the BTF out: whichever
  // write met the full disk, the mirror did nothing wrong (before this, a
  // full disk read as the mirror's failure and the next mirror was tried).
  if (!r && r.error().code == Errc::no_space) *failure = FetchFailure::local;
  return r;
}

}  // namespace btfd::hub
