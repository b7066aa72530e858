// SPDX-License-Identifier: GPL-2.0-or-later
// io.btfd.ImportBundle (btfctl import): a bundle (docs/bundle.md) passed as a
// descriptor — btfd never opens a path a client names — read on a worker,
// checked whole (structure, every checksum, every BTF) and stored as cache
// entries for the objects it was made for. Admin only: it fills the cache.
#include <sys/stat.h>
#include <sys/vfs.h>

#include "methods/methods.hpp"
#include "util/fd.hpp"
#include "varlink/params.hpp"

namespace btfd::server::methods {

using nlohmann::json;

namespace {
// The largest bundle btfd reads: every kernel of btfhub-archive minimized for
// a large agent is a few tens of MB; the whole bundle is held in memory while
// it is checked.
constexpr uint64_t kMaxBundleBytes = 1ull << 30;
// A FUSE file's reads are answered by whoever mounted it, possibly never: a
// worker reading it could be pinned for good (as for objects: object_reads.cpp).
constexpr long kFuseMagic = 0x65735546;
}  // namespace

namespace {
struct Params {
  uint64_t bundle = 0;
};
const Binding<Params> kParams[] = {bind<&Params::bundle>("bundle")};

// What the import may not touch: the bundle is read once, at most the size it
// had when admitted, so the file cannot change under the checks (a mapping
// could, or fault).
Result<json> read_and_import(Service& service, const Call& call, UniqueFd& fd, uint64_t size) {
  if (call.cancelled()) return make_error(Errc::cancelled, kCancelled);
  auto bytes = pread_all(fd.get(), size);
  fd.reset();
  if (!bytes && bytes.error().code == Errc::too_large)
    return make_error(Errc::corrupt, "bundle: the file grew while btfd was reading it").in(Domain::bundle);
  if (!bytes) return std::move(bytes).error();
  auto imported = service.import_bundle(*bytes);
  // What the checks refused is the bundle's fault, named as such.
  if (!imported) return std::move(imported).error().in(Domain::bundle);
  return imported;
}
}  // namespace

ParamTypes import_bundle_params() { return binding_types<Params>(kParams); }

void import_bundle(Server& s, Request& r) {
  Params p = decode<Params>(r.params, kParams);
  if (p.bundle >= r.fds.size() || !r.fds[p.bundle])
    return s.fail_parameter(r.call, "bundle",
                            "descriptor " + std::to_string(p.bundle) + " was not passed with this call (it came with " +
                                std::to_string(r.fds.size()) + ")");
  auto fd = std::make_shared<UniqueFd>(std::move(r.fds[p.bundle]));
  auto refuse = [&](Errc code, const std::string& message) { s.fail(r.call, make_error(code, message).in(Domain::bundle)); };
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0 || !S_ISREG(st.st_mode))
    return refuse(Errc::invalid_argument, "the bundle must be passed as a regular file (or a memfd)");
  if (static_cast<uint64_t>(st.st_size) > kMaxBundleBytes)
    return refuse(Errc::too_large, "bundle of " + std::to_string(st.st_size) + " bytes; btfd imports at most " +
                                       std::to_string(kMaxBundleBytes));
  struct statfs fs {};
  if (::fstatfs(fd->get(), &fs) == 0 && fs.f_type == kFuseMagic)
    return refuse(Errc::invalid_argument, "the bundle is on a FUSE file system, which btfd does not read from");
  if (!s.begin_import())
    return s.fail(r.call, make_error(Errc::busy, "another bundle is being imported; btfd imports one at a time"));
  // The import slot is the call's until its work is done or dropped, on
  // whichever thread that happens.
  std::shared_ptr<void> slot(nullptr, [&s](void*) { s.end_import(); });
  if (!s.admit(r.conn, r.call)) return;
  uint64_t size = static_cast<uint64_t>(st.st_size);
  s.run(r.call, Server::Lane::fast, [&s, fd, size, slot](Call& running) -> Result<Server::Reply> {
    BTFD_TRY(json out, read_and_import(s.service(), running, *fd, size));
    return Server::Reply(std::move(out));
  });
}

}  // namespace btfd::server::methods
