// SPDX-License-Identifier: LGPL-2.1-or-later
// libbtfd: the C ABI over the shared Varlink codec. No exception may cross
// the C boundary: every entry point catches everything.
#include "btfd/libbtfd.h"

#include <bpf/libbpf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string>

#include "btfd-config.h"
#include "proto/varlink.hpp"

// Only what the symbol map lists is exported; everything else is hidden.
#define BTFD_EXPORT extern "C" __attribute__((visibility("default")))

struct btfd_client {
  btfd::proto::Client conn;
};

namespace {

int from_error_name(const std::string& name) { return btfd::proto::error_info(name).libbtfd_code; }

int from_error(const btfd::Error& e) {
  if (e.code == btfd::Errc::unreachable) return BTFD_ERR_UNREACHABLE;
  if (e.sys_errno) return -e.sys_errno;
  if (e.code == btfd::Errc::timeout) return -ETIMEDOUT;
  if (e.code == btfd::Errc::too_large) return BTFD_ERR_TOO_LARGE;
  return BTFD_ERR_PROTOCOL;
}

void copy(char* dst, size_t cap, const std::string& src) {
  std::snprintf(dst, cap, "%s", src.c_str());
}

// Paths btfd_ensure_core_btf() created, so that clean never frees a caller's string.
std::mutex g_mu;
std::set<const char*> g_owned;

}  // namespace

BTFD_EXPORT int btfd_connect(const char* socket_path, btfd_client** client) try {
  if (!client) return -EINVAL;
  *client = nullptr;
  std::string path = socket_path ? socket_path : "";
  if (path.empty()) {
    const char* env = std::getenv("BTFD_SOCKET");
    path = env && *env ? env : BTFD_DEFAULT_SOCKET;
  }
  auto c = btfd::proto::Client::connect(path, 300000);
  if (!c) return from_error(c.error());
  *client = new btfd_client{std::move(c).value()};
  return 0;
} catch (...) {
  return -ENOMEM;
}

BTFD_EXPORT void btfd_close(btfd_client* client) { delete client; }

BTFD_EXPORT int btfd_get_btf(btfd_client* client, const struct btfd_kernel* kernel, const int* object_fds,
                            size_t n_objects, struct btfd_result* result) try {
  if (!client || !result || (n_objects && !object_fds)) return -EINVAL;
  std::memset(result, 0, sizeof *result);
  result->fd = -1;
  nlohmann::json params = nlohmann::json::object();
  if (kernel) {
    nlohmann::json k = nlohmann::json::object();
    if (kernel->distro) k["distro"] = kernel->distro;
    if (kernel->version) k["version"] = kernel->version;
    if (kernel->arch) k["arch"] = kernel->arch;
    if (kernel->release) k["release"] = kernel->release;
    params["kernel"] = k;
  }
  if (n_objects) {
    params["objects"] = nlohmann::json::array();
    for (size_t i = 0; i < n_objects; ++i) params["objects"].push_back(i);
  }
  auto reply = client->conn.call("io.btfd.GetBtf", params, std::span(object_fds, n_objects));
  if (!reply) return from_error(reply.error());
  if (reply->json.contains("error"))
    return from_error_name(reply->json["error"].is_string() ? reply->json["error"].get<std::string>() : "");
  const auto& p = reply->json["parameters"];
  if (reply->fds.empty() || !p.is_object()) return BTFD_ERR_PROTOCOL;
  result->fd = reply->fds[0].release();
  copy(result->path, sizeof result->path, p.value("path", ""));
  copy(result->sha256, sizeof result->sha256, p.value("sha256", ""));
  copy(result->source, sizeof result->source, p.value("source", ""));
  result->size = p.value("size", uint64_t{0});
  result->cached = p.value("cached", false);
  result->exact = p.value("exact", false);
  result->minimized = p.value("minimized", false);
  return 0;
} catch (...) {
  return BTFD_ERR_PROTOCOL;
}

BTFD_EXPORT void btfd_result_release(struct btfd_result* result) {
  if (result && result->fd >= 0) {
    ::close(result->fd);
    result->fd = -1;
  }
}

BTFD_EXPORT const char* btfd_strerror(int err) {
  switch (err) {
    case 0: return "success";
    case BTFD_ERR_UNREACHABLE: return "btfd is not reachable (is btfd.socket enabled?)";
    case BTFD_ERR_NOT_IN_HUB: return "no BTF exists for this kernel";
    case BTFD_ERR_HUB_UNREACHABLE: return "the BTF hub could not be reached; try again later";
    case BTFD_ERR_INVALID_OBJECT: return "not a valid CO-RE BPF object";
    case BTFD_ERR_INVALID_KERNEL: return "malformed kernel identity";
    case BTFD_ERR_PERMISSION: return "permission denied by btfd";
    case BTFD_ERR_TOO_LARGE: return "a btfd limit was exceeded";
    case BTFD_ERR_BUSY: return "btfd is busy; try again";
    case BTFD_ERR_STORE: return "btfd's cache failed";
    case BTFD_ERR_PROTOCOL: return "unexpected answer from btfd";
    case BTFD_ERR_INTERNAL: return "internal error in btfd";
    case BTFD_ERR_HUB_REJECTED: return "a BTF hub mirror served something btfd refuses";
    default: return err < 0 && err > -4096 ? std::strerror(-err) : "unknown error";
  }
}

BTFD_EXPORT int btfd_ensure_core_btf(struct bpf_object_open_opts* opts) try {
  if (!opts) return -EINVAL;
  if (opts->btf_custom_path) return 0;
  const char* force = std::getenv("BTFD_FORCE");
  bool forced = force && std::strcmp(force, "1") == 0;
  if (!forced && ::access("/sys/kernel/btf/vmlinux", R_OK) == 0) return 0;
  btfd_client* c = nullptr;
  int err = btfd_connect(nullptr, &c);
  if (err) return err;
  struct btfd_result r;
  err = btfd_get_btf(c, nullptr, nullptr, 0, &r);
  btfd_close(c);
  if (err) return err;
  // btfd's cache path may not exist in this mount namespace: copy the bytes
  // from the descriptor into a private file.
  const char* tmpdir = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/btfd-vmlinux-XXXXXX";
  int out = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (out < 0) {
    err = -errno;
    btfd_result_release(&r);
    return err;
  }
  auto bytes = btfd::pread_all(r.fd, r.size + 1);
  btfd_result_release(&r);
  if (!bytes || !btfd::write_all(out, *bytes)) {
    ::close(out);
    ::unlink(tmpl.c_str());
    return -EIO;
  }
  ::close(out);
  char* path = ::strdup(tmpl.c_str());
  if (!path) {
    ::unlink(tmpl.c_str());
    return -ENOMEM;
  }
  {
    std::lock_guard lock(g_mu);
    g_owned.insert(path);
  }
  opts->btf_custom_path = path;
  return 0;
} catch (...) {
  return -ENOMEM;
}

BTFD_EXPORT void btfd_clean_core_btf(struct bpf_object_open_opts* opts) {
  if (!opts || !opts->btf_custom_path) return;
  std::lock_guard lock(g_mu);
  auto it = g_owned.find(opts->btf_custom_path);
  if (it == g_owned.end()) return;  // not ours
  ::unlink(*it);
  std::free(const_cast<char*>(*it));
  g_owned.erase(it);
  opts->btf_custom_path = nullptr;
}
