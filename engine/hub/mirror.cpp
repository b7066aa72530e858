// SPDX-License-Identifier: GPL-2.0-or-later
#include "hub/mirror.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <string_view>

namespace btfd::hub {
namespace {

struct Scheme {
  std::string_view prefix;
  std::string_view path_starts_at;  // what stays of the prefix in a local path
  bool local;
};

// The only ways btfd reaches a mirror. libcurl would also speak ftp, scp,
// smb...; none of those is a btfhub-archive mirror, and a typo in the scheme
// should stop the daemon, not turn into "not in hub" for every kernel.
constexpr Scheme kSchemes[] = {
    {"https://", "", false},
    {"http://", "", false},
    {"file://", "", true},
    {"/", "/", true},
};

const Scheme* scheme_of(std::string_view mirror) {
  auto it = std::find_if(std::begin(kSchemes), std::end(kSchemes),
                         [&](const Scheme& s) { return mirror.substr(0, s.prefix.size()) == s.prefix; });
  return it == std::end(kSchemes) ? nullptr : it;
}

std::string local_path(std::string_view mirror, const Scheme& s) {
  return std::string(s.path_starts_at) + std::string(mirror.substr(s.prefix.size()));
}

}  // namespace

std::string mirror_problem(const std::string& mirror) {
  const Scheme* s = scheme_of(mirror);
  if (!s) return "unsupported scheme (use https://, http://, file:// or an absolute directory)";
  if (!s->local) {
    if (mirror.size() == s->prefix.size()) return "no host";
    if (!url_userinfo(mirror).empty())
      return "credentials in the URL (user:password@) are refused, as they would show in process lists, logs, "
             "errors and Stats: put them in a file named by BasicAuthFile= (or BearerTokenFile=) in a "
             "[Mirror \"URL\"] section";
    return "";
  }
  std::string path = local_path(mirror, *s);
  if (path.empty() || path[0] != '/') return "not an absolute directory";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "directory \"" + path + "\" does not exist";
  if (!S_ISDIR(st.st_mode)) return "\"" + path + "\" is not a directory";
  return "";
}

Status validate_mirror(const std::string& mirror) {
  std::string problem = mirror_problem(mirror);
  if (problem.empty()) return {};
  return make_error(Errc::invalid_argument, "mirror \"" + url_without_userinfo(mirror) + "\": " + problem);
}

std::string mirror_base_url(const std::string& mirror) {
  std::string m = mirror;
  while (m.size() > 1 && m.back() == '/') m.pop_back();
  if (!m.empty() && m[0] == '/') return "file://" + m;
  return m;
}

std::string_view url_userinfo(std::string_view url) {
  size_t sep = url.find("://");
  std::string_view rest = sep == std::string_view::npos ? url : url.substr(sep + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  size_t at = authority.rfind('@');
  return at == std::string_view::npos ? std::string_view() : authority.substr(0, at + 1);
}

std::string url_without_userinfo(std::string_view url) {
  std::string_view info = url_userinfo(url);
  if (info.empty()) return std::string(url);
  size_t at = static_cast<size_t>(info.data() - url.data());
  return std::string(url.substr(0, at)) + "***@" + std::string(url.substr(at + info.size()));
}

}  // namespace btfd::hub
