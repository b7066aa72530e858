// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once
// Where btfhub-archive keeps a distro's kernels. The archive does not use
// os-release's VERSION_ID verbatim (RHEL 8.4 lives in rhel/8, Amazon Linux
// 2018.03 in amzn/1, Debian's "buster" is 10), so the mapping is one table of
// rules, data rather than code: built in, replaced by an installed file and
// extended by btfd.conf. ID_LIKE is never followed on its own; a site that
// wants rocky served as rhel says so with an alias, and such answers are
// marked inexact.

#include <string>
#include <string_view>
#include <vector>

#include "kernel/identity.hpp"
#include "util/result.hpp"

namespace btfd {

// "map <ID> <VERSION_ID pattern> <directory>": the first rule whose ID equals
// and whose pattern matches (fnmatch: "*", "2018.*", "buster") names the
// archive directory "<distro>/<version>", where {major} is VERSION_ID up to
// its first dot and {version} is VERSION_ID itself.
struct DistroRule {
  std::string id;
  std::string version_pattern;
  std::string directory;
};

// "alias <ID> <ID>": serve the first ID as the second (rocky -> rhel).
struct DistroAlias {
  std::string from;
  std::string to;
};

struct ArchiveKey {
  KernelIdentity kernel;  // as the archive names it: rhel/8/x86_64/<release>
  bool exact = true;      // false when an alias chose another distro's kernels
};

class DistroMap {
 public:
  // The families btfhub-archive serves (see distros.conf).
  static DistroMap builtin();
  // The table file format: one "map" or "alias" line each, # comments.
  static Result<DistroMap> parse(std::string_view text, const std::string& origin);
  // Rules and aliases of `over` are consulted before this map's own.
  void overlay(const DistroMap& over);

  // An os-release identity (or one already in archive form: mapping is
  // idempotent) to its archive key. IDs without a rule are used verbatim.
  Result<ArchiveKey> resolve(const KernelIdentity& asked) const;

  const std::vector<DistroRule>& rules() const { return rules_; }
  const std::vector<DistroAlias>& aliases() const { return aliases_; }

 private:
  std::vector<DistroRule> rules_;
  std::vector<DistroAlias> aliases_;
};

// The built-in table in the file format (what distros.conf ships).
extern const char kBuiltinDistroTable[];

}  // namespace btfd
