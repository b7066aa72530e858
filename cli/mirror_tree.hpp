// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The destination of `btfctl mirror sync|export`: a btfhub-archive layout
// directory with a SHA256SUMS, written so that a killed run leaves nothing
// half-written in sight (each archive goes to a hidden temp file beside its
// place, is checked, then renamed; SHA256SUMS is replaced atomically every few
// files and at the end), and a second run copies only what changed (a file
// newer than SHA256SUMS is hashed again rather than trusted).

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>

#include "hub/archive_index.hpp"
#include "util/fd.hpp"
#include "util/result.hpp"

namespace btfctl::mirror {

class Tree {
 public:
  // Creates dest if needed and takes its lock (one writer at a time: busy otherwise).
  static btfd::Result<std::unique_ptr<Tree>> open(const std::string& dest);

  // The digest of dest/rel: as SHA256SUMS records it for a file that is there
  // and older than SHA256SUMS, else hashed now (a file a killed run renamed into
  // place after SHA256SUMS was last saved: the recorded digest may be stale);
  // "" when there is none.
  std::string digest_of(const std::string& rel);

  struct Put {
    std::string sha256;
    uint64_t size = 0;
    bool changed = false;  // false: the same bytes were there already (nothing replaced)
  };
  // fill writes the file into a temp fd; check reads it back (from offset 0);
  // with expected_sha256 set, the temp file's digest must be that; only then is
  // it renamed over dest/rel (a refused file never lands in dest nor in SHA256SUMS).
  btfd::Result<Put> put(const std::string& rel, const std::function<btfd::Status(int fd)>& fill,
                        const std::function<btfd::Status(int fd)>& check, const std::string& expected_sha256 = "");

  // A directory alias such as debian/buster -> 10 (a relative symlink), kept if one is there.
  btfd::Status link(const std::string& link_rel, const std::string& target_rel);

  // Writes SHA256SUMS: every archive present, aliases included (so that a
  // kernel asked for by its alias is checked too), sorted, atomically.
  btfd::Status save_sums();

  const std::string& root() const { return root_; }

 private:
  Tree(std::string root, btfd::UniqueFd lock) : root_(std::move(root)), lock_(std::move(lock)) {}
  std::string root_;
  btfd::UniqueFd lock_;
  std::map<std::string, std::string> sums_;  // rel path -> hex digest
  std::set<std::string> known_;  // hashed or put in place by this run: sums_ is right for them, and they are there
  struct timespec sums_mtime_ {};  // SHA256SUMS as this run found it (0: none)
  // The tree's directory aliases, listed once per run (again only after link
  // added one): walking DEST at every save made a sync quadratic.
  std::optional<std::vector<btfd::hub::ArchiveAlias>> aliases_;
  unsigned unsaved_ = 0;
};

// A btfhub-archive tarball holding one "<release>.btf", written to out_fd the
// same way every time (fixed owner, mode and time), so unchanged BTF gives
// an unchanged archive and digest.
btfd::Status pack_btf_archive(int out_fd, const std::string& release, std::span<const uint8_t> btf);

// Copies in_fd (from offset 0) to out_fd.
btfd::Status copy_fd(int in_fd, int out_fd);

}  // namespace btfctl::mirror
