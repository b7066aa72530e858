// SPDX-License-Identifier: LGPL-2.1-or-later
// libbtfd: the C ABI over the shared Varlink codec. No exception may cross
// the C boundary: every entry point catches everything.
#include "btfd/libbtfd.h"

#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "btfd-config.h"
#include "proto/varlink.hpp"
#include "proto/interface.hpp"
#include "util/sha256.hpp"

// Only what the symbol map lists is exported; everything else is hidden.
#define BTFD_EXPORT extern "C" __attribute__((visibility("default")))

struct btfd_client {
  btfd::proto::Client conn;
  std::string socket_path;  // to connect again after a timeout closed the connection
  int timeout_ms;           // 0: none
  std::string compat;       // GetBtf's compatibility level; "": none
};

namespace {

int from_error_name(const std::string& name) { return btfd::proto::error_info(name).libbtfd_code; }

int from_error(const btfd::Error& e) {
  if (e.code == btfd::Errc::timeout) return BTFD_ERR_TIMEOUT;
  if (e.code == btfd::Errc::unreachable) return BTFD_ERR_UNREACHABLE;
  if (e.sys_errno) return -e.sys_errno;
  if (e.code == btfd::Errc::too_large) return BTFD_ERR_TOO_LARGE;
  return BTFD_ERR_PROTOCOL;
}

void copy(char* dst, size_t cap, const std::string& src) {
  std::snprintf(dst, cap, "%s", src.c_str());
}

std::string default_socket(const char* socket_path) {
  if (socket_path && *socket_path) return socket_path;
  const char* env = std::getenv("BTFD_SOCKET");
  return env && *env ? env : BTFD_DEFAULT_SOCKET;
}

// $BTFD_TIMEOUT_MSEC when it is a whole number of milliseconds (0: none), else
// the built-in default: a library has no one to tell about a malformed value.
int default_timeout_ms() {
  const char* env = std::getenv("BTFD_TIMEOUT_MSEC");
  if (env && *env) {
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(env, &end, 10);
    if (errno == 0 && *end == '\0' && v >= 0 && v <= INT32_MAX) return static_cast<int>(v);
  }
  return BTFD_DEFAULT_TIMEOUT_MSEC;
}

int open_connection(btfd_client* client) {
  // The connect is bounded like a call (SO_SNDTIMEO); the per-read wait is
  // left unbounded since the call's own deadline covers it.
  auto c = btfd::proto::Client::connect(client->socket_path, client->timeout_ms > 0 ? client->timeout_ms : -1);
  if (!c) return from_error(c.error());
  client->conn = std::move(c).value();
  client->conn.set_timeout_ms(-1);
  client->conn.set_call_timeout_ms(client->timeout_ms);
  return 0;
}

// $BTFD_COMPAT: the compatibility level a client starts with (btfd checks it).
std::string default_compat() {
  const char* env = std::getenv("BTFD_COMPAT");
  return env ? env : "";
}

int connect_with(const std::string& socket_path, int timeout_ms, btfd_client** client) {
  auto* c = new btfd_client{{}, socket_path, timeout_ms, default_compat()};
  if (int err = open_connection(c)) {
    delete c;
    return err;
  }
  *client = c;
  return 0;
}

// The descriptors behind the /proc/self/fd paths the helpers set, by the path
// string they allocated, so that clean never frees or closes a caller's.
std::mutex g_mu;
std::map<const char*, int> g_owned;

// Hands btf_fd over to opts as /proc/self/fd/N: libbpf opens that path at
// load time and gets the bytes btfd passed, wherever btfd's cache lives (a
// container sees none of it) and without a copy on disk.
int publish(struct bpf_object_open_opts* opts, int btf_fd) {
  std::string path = "/proc/self/fd/" + std::to_string(btf_fd);
  char* owned = ::strdup(path.c_str());
  if (!owned) {
    ::close(btf_fd);
    return -ENOMEM;
  }
  {
    std::lock_guard lock(g_mu);
    g_owned.emplace(owned, btf_fd);
  }
  opts->btf_custom_path = owned;
  return 0;
}

bool kernel_has_btf() {
  const char* force = std::getenv("BTFD_FORCE");
  if (force && std::strcmp(force, "1") == 0) return false;
  return ::access("/sys/kernel/btf/vmlinux", R_OK) == 0;
}

// The helpers' options after defaults; fails on a size this library cannot
// honour (fields it does not know set to non-zero), as libbpf's opts do.
struct CoreOptions {
  std::string socket_path;
  int timeout_ms;
};

int resolve(const struct btfd_core_opts* o, CoreOptions* out) {
  constexpr size_t kMinSize = offsetof(btfd_core_opts, timeout_msec) + sizeof(int);
  btfd_core_opts known{};
  if (o) {
    if (o->sz < kMinSize) return -EINVAL;
    auto* bytes = reinterpret_cast<const unsigned char*>(o);
    for (size_t i = sizeof known; i < o->sz; ++i)
      if (bytes[i]) return -EOPNOTSUPP;
    std::memcpy(&known, o, o->sz < sizeof known ? o->sz : sizeof known);
    if (known.timeout_msec < 0) return -EINVAL;
  }
  out->socket_path = default_socket(known.socket_path);
  out->timeout_ms = known.timeout_msec > 0 ? known.timeout_msec : default_timeout_ms();
  return 0;
}

// An object a helper sends: named by its digest first (btfd answers a warm
// call from its cache without the bytes), its bytes only if btfd asks.
struct ObjectSource {
  btfd::Digest digest{};
  std::function<btfd::Result<btfd::UniqueFd>()> sealed;  // the bytes as a sealed memfd
  const char* name = nullptr;  // the file name for `btfctl list` (may be null)
};

int get_btf_named(btfd_client* client, const struct btfd_kernel* kernel, const int* object_fds, size_t n_objects,
                  const char* name, struct btfd_result* result, bool report_param = true);
int get_btf_for_object(btfd_client* client, const ObjectSource& object, struct btfd_result* result);

// The helpers' common part: BTF for this host, minimized for the object when
// there is one, set as opts->btf_custom_path.
int ensure_with(struct bpf_object_open_opts* opts, const CoreOptions& o, const ObjectSource* object = nullptr) {
  btfd_client* c = nullptr;
  int err = connect_with(o.socket_path, o.timeout_ms, &c);
  if (err) return err;
  struct btfd_result r;
  err = object ? get_btf_for_object(c, *object, &r) : get_btf_named(c, nullptr, nullptr, 0, nullptr, &r);
  btfd_close(c);
  if (err) return err;
  return publish(opts, r.fd);  // the descriptor is the path's now
}

// What every helper checks first: nothing to do when the kernel has BTF or
// the caller chose a path. With $BTFD_COMPAT set the kernel's own BTF is
// what the reader cannot parse: btfd's rewritten copy is wanted even then.
bool nothing_to_do(const struct bpf_object_open_opts* opts) {
  return opts->btf_custom_path || (default_compat().empty() && kernel_has_btf());
}

}  // namespace

BTFD_EXPORT int btfd_connect(const char* socket_path, btfd_client** client) try {
  if (!client) return -EINVAL;
  *client = nullptr;
  return connect_with(default_socket(socket_path), default_timeout_ms(), client);
} catch (...) {
  return -ENOMEM;
}

BTFD_EXPORT void btfd_close(btfd_client* client) { delete client; }

BTFD_EXPORT int btfd_set_compat(btfd_client* client, const char* level) try {
  if (!client) return -EINVAL;
  std::string l = level ? level : "";
  if (l.size() > 64) return -EINVAL;  // no level is longer; btfd refuses what it does not know
  client->compat = std::move(l);
  return 0;
} catch (...) {
  return -ENOMEM;
}

BTFD_EXPORT int btfd_set_timeout(btfd_client* client, int timeout_msec) {
  if (!client || timeout_msec < 0) return -EINVAL;
  client->timeout_ms = timeout_msec;
  client->conn.set_call_timeout_ms(timeout_msec);
  return 0;
}

BTFD_EXPORT int btfd_get_btf(btfd_client* client, const struct btfd_kernel* kernel, const int* object_fds,
                            size_t n_objects, struct btfd_result* result) {
  return get_btf_named(client, kernel, object_fds, n_objects, nullptr, result);
}

namespace {
// Whether a reply is btfd refusing the call's parameter `name` (as a btfd
// older than that parameter does).
bool refused_parameter(const nlohmann::json& reply, const char* name) {
  auto e = reply.find("error");
  if (e == reply.end() || !e->is_string() || *e != btfd::proto::errors::kInvalidParameter) return false;
  auto p = reply.find("parameters");
  if (p == reply.end() || !p->is_object()) return false;
  auto which = p->find("parameter");
  return which != p->end() && which->is_string() && *which == name;
}

bool is_error(const nlohmann::json& reply, const char* name) {
  auto e = reply.find("error");
  return e != reply.end() && e->is_string() && *e == name;
}

// A GetBtf answer into result (its descriptor taken), or the error it names.
int take_answer(btfd::proto::Message& reply, struct btfd_result* result) {
  if (reply.json.contains("error"))
    return from_error_name(reply.json["error"].is_string() ? reply.json["error"].get<std::string>() : "");
  const auto& p = reply.json["parameters"];
  if (reply.fds.empty() || !p.is_object()) return BTFD_ERR_PROTOCOL;
  result->fd = reply.fds[0].release();
  copy(result->path, sizeof result->path, p.value("path", ""));
  copy(result->sha256, sizeof result->sha256, p.value("sha256", ""));
  copy(result->source, sizeof result->source, p.value("source", ""));
  result->size = p.value("size", uint64_t{0});
  result->cached = p.value("cached", false);
  result->exact = p.value("exact", false);
  result->minimized = p.value("minimized", false);
  return 0;
}

// GetBtf; name (may be null) is the object's file name, which btfd keeps for
// `btfctl list` only. report_param: ask btfd to leave out the relocation
// report (false when btfd is known to be older than that parameter).
int get_btf_named(btfd_client* client, const struct btfd_kernel* kernel, const int* object_fds, size_t n_objects,
                  const char* name, struct btfd_result* result, bool report_param) try {
  if (!client || !result || (n_objects && !object_fds)) return -EINVAL;
  std::memset(result, 0, sizeof *result);
  result->fd = -1;
  if (!client->conn.connected())  // an earlier call timed out
    if (int err = open_connection(client)) return err;
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
    // The base name only, within btfd's 255-byte limit on a name.
    if (name && *name && n_objects == 1) {
      std::string_view base(name);
      if (auto slash = base.rfind('/'); slash != std::string_view::npos) base.remove_prefix(slash + 1);
      if (!base.empty() && base.size() <= 255) params["names"] = nlohmann::json::array({std::string(base)});
    }
  }
  // libbtfd reads nothing of the relocation report: btfd need not build,
  // send and have it parsed. A btfd older than "report" refuses the
  // parameter by name; it is asked again without it.
  if (n_objects && report_param) params["report"] = false;
  if (!client->compat.empty()) params["compat"] = client->compat;
  auto reply = client->conn.call(btfd::proto::method::kGetBtf, params, std::span(object_fds, n_objects));
  if (reply && params.contains("report") && refused_parameter(reply->json, "report")) {
    params.erase("report");
    reply = client->conn.call(btfd::proto::method::kGetBtf, params, std::span(object_fds, n_objects));
  }
  if (!reply) return from_error(reply.error());
  return take_answer(*reply, result);
} catch (...) {
  return BTFD_ERR_PROTOCOL;
}

// The helpers' call for one object: by digest (a warm call costs btfd a
// lookup, the client one hash and no copy); when btfd answers ObjectsNeeded
// (it has not minimized for this object, or does not remember this user
// sending it) or is older than "digests", the object itself.
int get_btf_for_object(btfd_client* client, const ObjectSource& object, struct btfd_result* result) try {
  std::memset(result, 0, sizeof *result);
  result->fd = -1;
  nlohmann::json params = {{"digests", nlohmann::json::array({btfd::to_hex(object.digest)})}, {"report", false}};
  if (!client->compat.empty()) params["compat"] = client->compat;
  auto reply = client->conn.call(btfd::proto::method::kGetBtf, params, {});
  if (!reply) return from_error(reply.error());
  bool older = refused_parameter(reply->json, "digests");
  if (!older && !is_error(reply->json, btfd::proto::errors::kObjectsNeeded)) return take_answer(*reply, result);
  auto fd = object.sealed();
  if (!fd) return fd.error().sys_errno ? -fd.error().sys_errno : BTFD_ERR_INVALID_OBJECT;
  int raw = fd->get();
  return get_btf_named(client, nullptr, &raw, 1, object.name, result, !older);
} catch (...) {
  return BTFD_ERR_PROTOCOL;
}
}  // namespace

BTFD_EXPORT void btfd_result_release(struct btfd_result* result) {
  if (result && result->fd >= 0) {
    ::close(result->fd);
    result->fd = -1;
  }
}

BTFD_EXPORT const char* btfd_strerror(int err) {
  if (err == 0) return "success";
  if (const char* s = btfd::proto::libbtfd_summary(err)) return s;
  return err < 0 && err > -4096 ? std::strerror(-err) : "unknown error";
}

BTFD_EXPORT int btfd_ensure_core_btf(struct bpf_object_open_opts* opts) try {
  if (!opts) return -EINVAL;
  if (nothing_to_do(opts)) return 0;
  CoreOptions o;
  if (int err = resolve(nullptr, &o)) return err;
  return ensure_with(opts, o);
} catch (...) {
  return -ENOMEM;
}

BTFD_EXPORT int btfd_ensure_core_btf_for_file(struct bpf_object_open_opts* opts, const char* object_path,
                                             const struct btfd_core_opts* core_opts) try {
  if (!opts || !object_path || !*object_path) return -EINVAL;
  CoreOptions o;
  if (int err = resolve(core_opts, &o)) return err;
  if (nothing_to_do(opts)) return 0;
  // O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer; an
  // object file is a regular file, read in blocking mode once that is known.
  btfd::UniqueFd fd(::open(object_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) return -errno;
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) return -errno;
  if (!S_ISREG(st.st_mode)) return BTFD_ERR_INVALID_OBJECT;
  if (int fl = ::fcntl(fd.get(), F_GETFL); fl < 0 || ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK) < 0) return -errno;
  constexpr uint64_t kMaxObject = 1ull << 30;
  if (static_cast<uint64_t>(st.st_size) > kMaxObject) return BTFD_ERR_TOO_LARGE;
  ObjectSource object;
  auto digest = btfd::sha256_fd(fd.get());  // pread: the copy below still starts at 0
  if (!digest) return digest.error().sys_errno ? -digest.error().sys_errno : -EIO;
  object.digest = *digest;
  object.name = object_path;
  // Sent, when btfd asks, as a sealed memfd: btfd reads it at once, where a
  // file it would read itself (which might stall) takes a slower, bounded path.
  object.sealed = [&fd] { return btfd::sealed_copy(std::move(fd), kMaxObject, "btfd-object"); };
  return ensure_with(opts, o, &object);
} catch (...) {
  return -ENOMEM;
}

BTFD_EXPORT int btfd_ensure_core_btf_for_mem(struct bpf_object_open_opts* opts, const void* object, size_t size,
                                            const struct btfd_core_opts* core_opts) try {
  if (!opts || !object || size == 0) return -EINVAL;
  CoreOptions o;
  if (int err = resolve(core_opts, &o)) return err;
  if (nothing_to_do(opts)) return 0;
  std::span<const uint8_t> bytes(static_cast<const uint8_t*>(object), size);
  ObjectSource source;
  source.digest = btfd::sha256(bytes);
  // libbpf's object_name, when the agent set one, is how it names the object.
  source.name = opts->object_name;
  // btfd reads objects from descriptors only; a memfd holds the bytes
  // without a file anywhere, sealed so that they are final when btfd reads.
  source.sealed = [bytes]() -> btfd::Result<btfd::UniqueFd> {
    btfd::UniqueFd fd(::memfd_create("btfd-object", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!fd) return btfd::sys_error(errno, "memfd_create");
    BTFD_TRY_VOID(btfd::write_all(fd.get(), bytes));
    if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
      return btfd::sys_error(errno, "seal");
    return fd;
  };
  return ensure_with(opts, o, &source);
} catch (...) {
  return -ENOMEM;
}

BTFD_EXPORT void btfd_clean_core_btf(struct bpf_object_open_opts* opts) {
  if (!opts || !opts->btf_custom_path) return;
  std::lock_guard lock(g_mu);
  auto it = g_owned.find(opts->btf_custom_path);
  if (it == g_owned.end()) return;  // not ours
  ::close(it->second);
  std::free(const_cast<char*>(it->first));
  g_owned.erase(it);
  opts->btf_custom_path = nullptr;
}
