// SPDX-License-Identifier: GPL-2.0-or-later
// io.btfd.ImportBundle (btfctl import): a bundle (docs/bundle.md) passed as a
// descriptor — btfd never opens a path a client names — read on a worker,
// checked whole (structure, every checksum, every BTF) and stored as cache
// entries for the objects it was made for. Admin only: it fills the cache.
#include <sys/stat.h>
#include <sys/vfs.h>

#include "server/connection.hpp"
#include "server/params.hpp"
#include "util/log.hpp"

namespace btfd::server {

using nlohmann::json;
namespace errors = proto::errors;

namespace {
// The largest bundle btfd reads: every kernel of btfhub-archive minimized for
// a large agent is a few tens of MB; the whole bundle is held in memory while
// it is checked.
constexpr uint64_t kMaxBundleBytes = 1ull << 30;
// A FUSE file's reads are answered by whoever mounted it, possibly never: a
// worker reading it could be pinned for good (as for objects: object_reads.cpp).
constexpr long kFuseMagic = 0x65735546;
}  // namespace

void Server::m_import_bundle(Connection& c, Call& call, const json& params, proto::Message& msg) {
  const json* b = param(params, "bundle");
  if (!b) return fail(call, errors::kInvalidParameter, "missing", "invalid", {{"parameter", "bundle"}});
  uint64_t idx = b->get<uint64_t>();
  if (idx >= msg.fds.size() || !msg.fds[idx])
    return fail(call, errors::kInvalidParameter,
                "descriptor " + std::to_string(idx) + " was not passed with this call (it came with " +
                    std::to_string(msg.fds.size()) + ")",
                "invalid", {{"parameter", "bundle"}});
  auto fd = std::make_shared<UniqueFd>(std::move(msg.fds[idx]));
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0 || !S_ISREG(st.st_mode))
    return fail(call, errors::kInvalidBundle, "the bundle must be passed as a regular file (or a memfd)", "invalid");
  if (static_cast<uint64_t>(st.st_size) > kMaxBundleBytes)
    return fail(call, errors::kTooLarge,
                "bundle of " + std::to_string(st.st_size) + " bytes; btfd imports at most " +
                    std::to_string(kMaxBundleBytes),
                "invalid");
  struct statfs fs {};
  if (::fstatfs(fd->get(), &fs) == 0 && fs.f_type == kFuseMagic)
    return fail(call, errors::kInvalidBundle, "the bundle is on a FUSE file system, which btfd does not read from",
                "invalid");
  if (import_running_)
    return fail(call, errors::kBusy, "another bundle is being imported; btfd imports one at a time", "busy");
  if (!admit(c, call)) return;
  import_running_ = true;
  uint64_t size = static_cast<uint64_t>(st.st_size);
  pool_->submit(call.uid, [this, call, fd, size]() mutable {
    std::optional<Result<json>> r;
    try {
      // Read once, at most the size it had when admitted: the file cannot
      // change under the checks (a mapping could, or fault).
      auto bytes = call.cancelled() ? Result<std::vector<uint8_t>>(make_error(Errc::cancelled, "cancelled"))
                                    : pread_all(fd->get(), size);
      fd->reset();
      if (!bytes && bytes.error().code == Errc::too_large)
        r = make_error(Errc::corrupt, "bundle: the file grew while btfd was reading it");
      else if (!bytes)
        r = std::move(bytes).error();
      else
        r = service_.import_bundle(*bytes);
    } catch (const std::exception& e) {
      log_error("%s threw: %s", call.method, e.what());
      r = make_error(Errc::internal, std::string("internal error in ") + call.method);
    }
    pool_->post([this, call = std::move(call), r = std::move(*r)]() mutable {
      import_running_ = false;
      if (r) {
        answer(call, std::move(r).value());
      } else if (r.error().code == Errc::corrupt || r.error().code == Errc::unsupported ||
                 r.error().code == Errc::invalid_argument) {
        // What the checks refused: the bundle's fault, named as such.
        fail(call, errors::kInvalidBundle, r.error().message, "invalid");
      } else {
        fail(call, r.error());
      }
    });
  });
}

}  // namespace btfd::server
