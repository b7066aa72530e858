// SPDX-License-Identifier: GPL-2.0-or-later
#include "hub/archive_reader.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <vector>

#include "util/fd.hpp"

namespace btfd::hub {
namespace {

using ArchivePtr = std::unique_ptr<struct archive, decltype(&archive_read_free)>;

ArchivePtr new_reader() {
  ArchivePtr a(archive_read_new(), archive_read_free);
  archive_read_support_filter_xz(a.get());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  return a;
}

Error archive_error(struct archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return make_error(Errc::corrupt, what + ": " + (msg ? msg : "unknown libarchive error"));
}

// "./x" and "x" are the same entry; anything with a directory part is not ours.
Result<std::string> entry_name(struct archive_entry* e) {
  const char* raw = archive_entry_pathname(e);
  if (!raw || !*raw) return make_error(Errc::corrupt, "archive entry without a name");
  std::string name = raw;
  if (name[0] == '/') return make_error(Errc::corrupt, "archive entry \"" + name + "\" has an absolute path");
  while (name.rfind("./", 0) == 0) name.erase(0, 2);
  if (name == ".." || name.rfind("../", 0) == 0 || name.find("/../") != std::string::npos ||
      (name.size() >= 3 && name.compare(name.size() - 3, 3, "/..") == 0))
    return make_error(Errc::corrupt, "archive entry \"" + std::string(raw) + "\" escapes the archive (path traversal)");
  return name;
}

Result<uint64_t> extract(struct archive* a, const std::string& release, int out_fd, const ExtractLimits& limits) {
  const std::string want = release + ".btf";
  uint64_t written = 0;
  bool found = false;
  std::vector<char> buf(256 * 1024);
  for (int n = 0;; ++n) {
    if (n > limits.max_entries) return make_error(Errc::corrupt, "archive has too many entries");
    struct archive_entry* e = nullptr;
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return archive_error(a, "cannot read the archive");
    BTFD_TRY(std::string name, entry_name(e));
    mode_t type = archive_entry_filetype(e);
    if (name.empty() && type == AE_IFDIR) continue;  // a leading "./" directory entry
    if (archive_entry_hardlink(e) || type == AE_IFLNK)
      return make_error(Errc::corrupt, "archive entry \"" + name + "\" is a link");
    if (type != AE_IFREG) return make_error(Errc::corrupt, "archive entry \"" + name + "\" is not a regular file");
    if (name != want)
      return make_error(Errc::corrupt, "archive entry \"" + name + "\" is not the expected \"" + want + "\"");
    if (found) return make_error(Errc::corrupt, "archive holds \"" + want + "\" more than once");
    found = true;
    for (;;) {
      la_ssize_t got = archive_read_data(a, buf.data(), buf.size());
      if (got < 0) return archive_error(a, "cannot decompress \"" + name + "\"");
      if (got == 0) break;
      written += static_cast<uint64_t>(got);
      if (written > limits.max_output_bytes)
        return make_error(Errc::too_large, "\"" + name + "\" decompresses to more than " +
                                               std::to_string(limits.max_output_bytes) +
                                               " bytes, the cap on a kernel's BTF");
      BTFD_TRY_VOID(write_all(out_fd, std::span(reinterpret_cast<const uint8_t*>(buf.data()), static_cast<size_t>(got))));
    }
  }
  if (!found) return make_error(Errc::corrupt, "archive does not contain \"" + want + "\"");
  if (written == 0) return make_error(Errc::corrupt, "\"" + want + "\" in the archive is empty");
  return written;
}

}  // namespace

Result<uint64_t> extract_btf(int in_fd, const std::string& release, int out_fd, const ExtractLimits& limits) {
  if (::lseek(in_fd, 0, SEEK_SET) < 0) return sys_error(errno, "seek in the downloaded archive");
  ArchivePtr a = new_reader();
  if (archive_read_open_fd(a.get(), in_fd, 256 * 1024) != ARCHIVE_OK) return archive_error(a.get(), "cannot open the archive");
  return extract(a.get(), release, out_fd, limits);
}

namespace {
struct Streamed {
  const ArchiveSource* source = nullptr;
  std::vector<uint8_t> buf = std::vector<uint8_t>(256 * 1024);
  std::optional<Error> error;  // the source's, which is what went wrong
};

la_ssize_t read_streamed(struct archive* a, void* data, const void** out) {
  auto* s = static_cast<Streamed*>(data);
  Result<size_t> n = make_error(Errc::internal, "not read");
  try {
    n = (*s->source)(s->buf);
  } catch (const std::exception& e) {
    n = make_error(Errc::internal, std::string("archive source: ") + e.what());
  }
  if (!n) {
    s->error = std::move(n).error();
    archive_set_error(a, EIO, "%s", s->error->message.c_str());
    return -1;
  }
  *out = s->buf.data();
  return static_cast<la_ssize_t>(*n);
}
}  // namespace

Result<uint64_t> extract_btf_streamed(const ArchiveSource& source, const std::string& release, int out_fd,
                                      const ExtractLimits& limits) {
  ArchivePtr a = new_reader();
  Streamed s;
  s.source = &source;
  Result<uint64_t> r = make_error(Errc::internal, "not read");
  if (archive_read_open(a.get(), &s, nullptr, read_streamed, nullptr) != ARCHIVE_OK)
    r = archive_error(a.get(), "cannot open the archive");
  else
    r = extract(a.get(), release, out_fd, limits);
  if (!r && s.error) return std::move(*s.error);
  return r;
}

Result<uint64_t> extract_btf_from_memory(std::span<const uint8_t> archive, const std::string& release, int out_fd,
                                         const ExtractLimits& limits) {
  ArchivePtr a = new_reader();
  if (archive_read_open_memory(a.get(), archive.data(), archive.size()) != ARCHIVE_OK)
    return archive_error(a.get(), "cannot open the archive");
  return extract(a.get(), release, out_fd, limits);
}

}  // namespace btfd::hub
