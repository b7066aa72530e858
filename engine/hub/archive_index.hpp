// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The kernels an archive source holds: a directory in btfhub-archive layout
// (<distro>/<version>/<arch>/<release>.btf.tar.xz) or a mirror URL listed
// through its SHA256SUMS, and one entry's archive or BTF, checked as btfd
// checks a download. For tools (btfctl mirror, gen, check): it downloads in
// process, so it lives in its own library, which btfd does not link.

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "util/fd.hpp"
#include "util/result.hpp"

namespace btfd::hub {

struct ArchiveEntry {
  std::string distro, version, arch, release;  // e.g. ubuntu, 20.04, x86_64, 5.4.0-1009-aws
  std::string rel_path;  // "ubuntu/20.04/x86_64/5.4.0-1009-aws.btf.tar.xz" (relative to source root)
  std::string sha256;    // from SHA256SUMS when the source has one, else empty
  uint64_t size = 0;     // 0 when unknown (URL sources)
};

struct ArchiveFilter {  // empty field = any
  std::string distro, version, arch, release_glob;  // release_glob: fnmatch(3) pattern
  bool matches(const ArchiveEntry&) const;
};

// A source is a directory in btfhub-archive layout (walked; symlinked dirs such as
// debian/buster -> 10 are followed once, never outside the root) or a mirror URL
// (http/https/file), listed through its SHA256SUMS (an error naming the URL if it has none).
// A directory reached both directly and through a symlink is listed once, under its
// real name. Entries come sorted by rel_path.
Result<std::vector<ArchiveEntry>> list_archive(const std::string& source, const ArchiveFilter& filter);

// Opens one entry's .btf.tar.xz and returns the validated raw BTF (the same checks btfd
// applies to a download: size caps, hostile-archive rules, btf_validate). For URL sources it
// downloads with the hardened fetcher (in-process is fine for btfctl).
Result<std::vector<uint8_t>> read_archive_btf(const std::string& source, const ArchiveEntry& e, uint64_t max_size);

// --- Beyond the shared contract: what btfctl mirror needs. ---

// The entry a layout path names ("<distro>/<version>/<arch>/<release>.btf.tar.xz",
// each part a plain name), or nothing.
std::optional<ArchiveEntry> archive_entry_from_path(std::string_view rel_path);

// A source's SHA256SUMS text ("<hex>  [./]path" or "<hex> *path" lines) as
// lowercase digests by layout path: lines that name no layout path or carry
// no hex digest are skipped; the first line for a path wins.
std::map<std::string, std::string> parse_archive_sums(std::string_view text);

// True when source names a URL (http://, https://, file://), false for a directory.
bool is_url_source(const std::string& source);

// The entry's archive as an unnamed, private file (read from offset 0): copied from the
// directory (opened beneath the source root, never through a link at its end) or
// downloaded, at most max_archive_bytes, and checked against e.sha256 when it is set.
// Later changes to the source do not reach the copy.
Result<UniqueFd> fetch_archive(const std::string& source, const ArchiveEntry& e, uint64_t max_archive_bytes);

// Unpacks and validates the BTF of an archive held in archive_fd (as read_archive_btf).
Result<std::vector<uint8_t>> archive_btf(int archive_fd, const ArchiveEntry& e, uint64_t max_size);

// A directory source's symlinked directories that stay inside the root, as
// (link rel path, target rel path), e.g. ("debian/buster", "debian/10"). Empty for URLs.
struct ArchiveAlias {
  std::string link, target;
};
Result<std::vector<ArchiveAlias>> list_aliases(const std::string& source);

// The largest SHA256SUMS read from a source.
inline constexpr uint64_t kMaxSumsBytes = 16ull << 20;
// The largest .btf.tar.xz read from a source (the daemon's download cap).
inline constexpr uint64_t kMaxArchiveBytes = 256ull << 20;

}  // namespace btfd::hub
