// SPDX-License-Identifier: LGPL-2.1-or-later
#include "kernel/identity.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>

#include "util/fd.hpp"

namespace btfd {

std::string KernelIdentity::hub_path() const {
  return distro_id + "/" + distro_version + "/" + arch + "/" + release;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// os-release values may be quoted with ' or " and use backslash escapes.
std::string unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
    char q = v.front();
    v = v.substr(1, v.size() - 2);
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
      if (q == '"' && v[i] == '\\' && i + 1 < v.size()) ++i;
      out += v[i];
    }
    return out;
  }
  return std::string(v);
}

}  // namespace

OsRelease parse_os_release(std::string_view text) {
  OsRelease out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = trim(line.substr(0, eq));
    std::string value = unquote(trim(line.substr(eq + 1)));
    if (key == "ID") out.id = value;
    else if (key == "VERSION_ID") out.version_id = value;
  }
  return out;
}

KernelIdentity identity_from(const OsRelease& os, std::string_view machine, std::string release) {
  KernelIdentity id{os.id, os.version_id, archive_arch(machine), std::move(release)};
  // Rolling distros (arch, debian sid) have no VERSION_ID; the archive has none for them either.
  if (id.distro_version.empty()) id.distro_version = "rolling";
  return id;
}

std::string archive_arch(std::string_view machine) {
  if (machine == "aarch64" || machine == "arm64") return "arm64";
  if (machine == "amd64") return "x86_64";
  return std::string(machine);
}

Status validate_identity(const KernelIdentity& id) {
  struct Part {
    const char* what;
    const std::string& value;
  };
  for (const Part& p : {Part{"distro ID", id.distro_id}, Part{"distro version", id.distro_version},
                        Part{"arch", id.arch}, Part{"kernel release", id.release}}) {
    if (p.value.empty()) return make_error(Errc::invalid_argument, std::string(p.what) + " is empty");
    if (p.value.size() > 128) return make_error(Errc::invalid_argument, std::string(p.what) + " is longer than 128 characters");
    if (p.value == "." || p.value == "..") return make_error(Errc::invalid_argument, std::string(p.what) + " \"" + p.value + "\" is not allowed");
    for (unsigned char c : p.value) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                c == '-' || c == '_' || c == '+' || c == '~';
      if (!ok) return make_error(Errc::invalid_argument, std::string(p.what) + " \"" + p.value + "\" contains a character outside [A-Za-z0-9._+~-]");
    }
  }
  return {};
}

std::string host_path(const std::string& host_root, std::string_view abs_path) {
  if (host_root.empty() || host_root == "/") return std::string(abs_path);
  std::string root = host_root;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return root + std::string(abs_path);
}

Result<HostInfo> detect_host(const std::string& host_root) {
  std::string path = host_path(host_root, "/etc/os-release");
  auto text = read_text_file(path, 64 * 1024);
  if (!text && text.error().code == Errc::not_found) {
    path = host_path(host_root, "/usr/lib/os-release");
    text = read_text_file(path, 64 * 1024);
  }
  if (!text) return std::move(text).error();
  OsRelease osr = parse_os_release(*text);
  if (osr.id.empty()) return make_error(Errc::corrupt, "\"" + path + "\" has no ID=");
  struct utsname u {};
  if (::uname(&u) < 0) return sys_error(errno, "uname");
  HostInfo info;
  info.identity = identity_from(osr, u.machine, u.release);
  std::string vmlinux = host_path(host_root, "/sys/kernel/btf/vmlinux");
  if (::access(vmlinux.c_str(), R_OK) == 0) info.native_btf_path = vmlinux;
  return info;
}

}  // namespace btfd
