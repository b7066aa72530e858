// SPDX-License-Identifier: LGPL-2.1-or-later
#include "kernel/distro_map.hpp"

#include <fnmatch.h>

#include <algorithm>

namespace btfd {

// From btfhub-archive's own listing. RHEL-like distros keep one directory per
// major release; Amazon Linux AMI (2017.x, 2018.x) is amzn/1; SUSE, Fedora,
// Ubuntu and Debian keep VERSION_ID as it is; Debian's codename directories
// are symlinks to the numbered ones.
const char kBuiltinDistroTable[] = R"(# btfd distro table: os-release ID and VERSION_ID -> btfhub-archive directory.
# First matching line wins. {major}: VERSION_ID up to its first dot.
map     rhel    *        rhel/{major}
map     ol      *        ol/{major}
map     centos  *        centos/{major}
map     amzn    2017.*   amzn/1
map     amzn    2018.*   amzn/1
map     amzn    *        amzn/{major}
map     sles    *        sles/{version}
map     fedora  *        fedora/{version}
map     ubuntu  *        ubuntu/{version}
map     debian  stretch  debian/9
map     debian  buster   debian/10
map     debian  *        debian/{version}
# Sites add their rebuilds here or in btfd.conf, e.g.:
# alias rocky rhel
)";

namespace {

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  while (!line.empty()) {
    size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    size_t end = line.find_first_of(" \t\r");
    out.push_back(line.substr(0, end));
    if (end == std::string_view::npos) break;
    line.remove_prefix(end);
  }
  return out;
}

std::string expand(const std::string& directory, const std::string& version) {
  const std::pair<std::string_view, std::string> fields[] = {{"{major}", version.substr(0, version.find('.'))},
                                                             {"{version}", version}};
  std::string out;
  for (size_t i = 0; i < directory.size();) {
    auto f = std::find_if(std::begin(fields), std::end(fields),
                          [&](const auto& field) { return directory.compare(i, field.first.size(), field.first) == 0; });
    if (f != std::end(fields)) {
      out += f->second;
      i += f->first.size();
    } else {
      out += directory[i++];
    }
  }
  return out;
}

// A directory must name two archive components, placeholders aside.
Status check_directory(const std::string& directory) {
  std::string sample = expand(directory, "1.0");
  size_t slash = sample.find('/');
  if (slash == std::string::npos || sample.find('/', slash + 1) != std::string::npos)
    return make_error(Errc::invalid_argument, "directory \"" + directory + "\" is not <distro>/<version>");
  KernelIdentity probe{sample.substr(0, slash), sample.substr(slash + 1), "x86_64", "r"};
  if (auto st = validate_identity(probe); !st)
    return make_error(Errc::invalid_argument, "directory \"" + directory + "\": " + st.error().message);
  return {};
}

}  // namespace

DistroMap DistroMap::builtin() {
  static const DistroMap map = [] {
    auto parsed = parse(kBuiltinDistroTable, "built-in distro table");
    return parsed ? std::move(parsed).value() : DistroMap{};
  }();
  return map;
}

Result<DistroMap> DistroMap::parse(std::string_view text, const std::string& origin) {
  DistroMap map;
  int lineno = 0;
  while (!text.empty()) {
    ++lineno;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    auto w = words(line);
    if (w.empty()) continue;
    auto where = [&] { return origin + ":" + std::to_string(lineno) + ": "; };
    if (w[0] == "map" && w.size() == 4) {
      DistroRule r{std::string(w[1]), std::string(w[2]), std::string(w[3])};
      if (auto st = check_directory(r.directory); !st) return make_error(Errc::invalid_argument, where() + st.error().message);
      map.rules_.push_back(std::move(r));
    } else if (w[0] == "alias" && w.size() == 3) {
      map.aliases_.push_back({std::string(w[1]), std::string(w[2])});
    } else {
      return make_error(Errc::invalid_argument,
                        where() + "expected \"map ID VERSION_ID-pattern distro/version\" or \"alias ID ID\"");
    }
  }
  return map;
}

void DistroMap::overlay(const DistroMap& over) {
  rules_.insert(rules_.begin(), over.rules_.begin(), over.rules_.end());
  aliases_.insert(aliases_.begin(), over.aliases_.begin(), over.aliases_.end());
}

Result<ArchiveKey> DistroMap::resolve(const KernelIdentity& asked) const {
  ArchiveKey key{asked, true};
  key.kernel.arch = archive_arch(asked.arch);
  // One level of aliasing only: a chain would hide which table line decided.
  auto alias = std::find_if(aliases_.begin(), aliases_.end(), [&](const DistroAlias& a) { return a.from == asked.distro_id; });
  if (alias != aliases_.end() && alias->to != asked.distro_id) {
    key.kernel.distro_id = alias->to;
    key.exact = false;
  }
  const std::string& version = asked.distro_version;
  auto rule = std::find_if(rules_.begin(), rules_.end(), [&](const DistroRule& r) {
    return r.id == key.kernel.distro_id && ::fnmatch(r.version_pattern.c_str(), version.c_str(), 0) == 0;
  });
  if (rule != rules_.end()) {
    std::string directory = expand(rule->directory, version);
    size_t slash = directory.find('/');
    key.kernel.distro_id = directory.substr(0, slash);
    key.kernel.distro_version = directory.substr(slash + 1);
  }
  if (auto st = validate_identity(key.kernel); !st) return std::move(st).error();
  return key;
}

}  // namespace btfd
