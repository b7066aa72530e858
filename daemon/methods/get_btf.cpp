// SPDX-License-Identifier: GPL-2.0-or-later
// io.btfd.GetBtf: a kernel's BTF, minimized for the call's objects if any.
// The whole way: parameters checked (dispatch, against the interface table),
// the kernel named, a cache hit answered at once on the loop; else the call
// admitted, its objects read within its budgets (varlink/object_reads.cpp),
// its work queued on the lane its kernel needs, and there the service finds
// or fetches the kernel and minimizes (service/service.cpp -> engine/btf).
#include "debuginfo/debug_files.hpp"
#include "methods/methods.hpp"
#include "btf/btf_compat.hpp"
#include "proto/varlink.hpp"
#include "varlink/params.hpp"

namespace btfd::server::methods {

using nlohmann::json;

namespace {
// "names": one per object at most, each at most this long (NAME_MAX).
constexpr size_t kMaxObjectName = 255;

struct Params {
  json kernel;
  std::vector<uint64_t> objects;
  std::vector<std::string> names;
  bool refresh = false;
  std::vector<std::string> digests;
  bool report = true;
  std::string compat;
  std::vector<std::string> modules;
};
const Binding<Params> kParams[] = {bind<&Params::kernel>("kernel"),
                                   bind<&Params::objects>("objects"),
                                   bind<&Params::names>("names"),
                                   bind<&Params::refresh>("refresh"),
                                   bind<&Params::digests>("digests"),
                                   bind<&Params::report>("report"),
                                   bind<&Params::compat>("compat"),
                                   bind<&Params::modules>("modules")};

// The call's objects, by the indexes it gave: each a descriptor it sent, once.
std::optional<ParamError> take_objects(const Params& p, std::vector<UniqueFd>& fds, std::vector<UniqueFd>* objects) {
  for (size_t i = 0; i < p.objects.size(); ++i) {
    uint64_t idx = p.objects[i];
    std::string field = "objects[" + std::to_string(i) + "]";
    if (idx >= fds.size())
      return ParamError{field, "descriptor " + std::to_string(idx) + " was not passed with this call (it came with " +
                                   std::to_string(fds.size()) + ")"};
    if (!fds[idx]) return ParamError{field, "descriptor " + std::to_string(idx) + " is named twice"};
    objects->push_back(std::move(fds[idx]));
  }
  return std::nullopt;
}

// "names": the objects' file names, for ListKernels only. Client text:
// bounded here, reduced to a printable base name when the objects are read.
std::optional<ParamError> check_names(const Params& p) {
  if (p.names.size() > p.objects.size())
    return ParamError{"names", std::to_string(p.names.size()) + " names for " + std::to_string(p.objects.size()) +
                                   " objects"};
  for (size_t i = 0; i < p.names.size(); ++i)
    if (p.names[i].size() > kMaxObjectName)
      return ParamError{"names[" + std::to_string(i) + "]", "longer than " + std::to_string(kMaxObjectName) + " bytes"};
  return std::nullopt;
}
// "digests": sha256 in hex, at most max_objects, never beside objects.
std::optional<ParamError> parse_digests(const Params& p, size_t max_objects, std::vector<Digest>* out) {
  if (!p.objects.empty() || !p.names.empty() || !p.modules.empty())
    return ParamError{"digests", "names objects by digest: not with \"objects\", \"names\" or \"modules\""};
  if (p.digests.size() > max_objects)
    return ParamError{"digests", std::to_string(p.digests.size()) + " digests; btfd takes at most " +
                                     std::to_string(max_objects) + " objects per request"};
  for (size_t i = 0; i < p.digests.size(); ++i) {
    auto d = digest_from_hex(p.digests[i]);
    if (!d) return ParamError{"digests[" + std::to_string(i) + "]", "not a sha256 in hex (64 hex digits)"};
    out->push_back(*d);
  }
  return std::nullopt;
}

// Objects named by digest: a lookup, on a worker (the index may be busy).
void get_btf_by_digests(Server& s, Request& r, const KernelIdentity& kid, const Params& p,
                        std::optional<btf::CompatLevel> compat) {
  std::vector<Digest> digests;
  if (auto bad = parse_digests(p, s.config().max_objects, &digests))
    return s.fail_parameter(r.call, bad->parameter, bad->message);
  if (!s.admit(r.conn, r.call, compat.has_value())) return;
  int64_t uid = r.call.uid;
  s.run(std::move(r.call), Server::Lane::fast,
        [&s, kid, digests = std::move(digests), uid, opts = GetBtfOptions{p.refresh, p.report}, compat](
            Call&) -> Result<Server::Reply> {
          BTFD_TRY(BtfAnswer a, s.service().get_btf_by_digests(kid, digests, uid, opts));
          if (compat) {
            BTFD_TRY(a, compat_answer(std::move(a), *compat));
          }
          std::vector<UniqueFd> fds;
          fds.push_back(std::move(a.blob.fd));
          return Server::Reply(answer_json(a), std::move(fds));
        });
}

// "modules": module names only (they index the host's module debug files,
// never a path), a bounded count, and not with objects: a module's split BTF
// is over the kernel's full BTF, which a minimized answer is not.
std::optional<ParamError> check_modules(const Params& p) {
  if (p.modules.empty()) return std::nullopt;
  if (!p.objects.empty()) return ParamError{"modules", "split BTF is over the kernel's full BTF: ask without objects"};
  if (p.modules.size() > kMaxModulesPerCall)
    return ParamError{"modules", std::to_string(p.modules.size()) + " modules; at most " +
                                     std::to_string(kMaxModulesPerCall) + " per call"};
  for (size_t i = 0; i < p.modules.size(); ++i)
    if (!debuginfo::is_module_name(p.modules[i]))
      return ParamError{"modules[" + std::to_string(i) + "]",
                        "not a module name ([A-Za-z0-9_-], 1 to " + std::to_string(debuginfo::kMaxModuleName) + " bytes)"};
  return std::nullopt;
}
// A cache hit's reply, kept ready: hits on a kernel get the same bytes until
// its entry changes (another blob, size or source), and building and dumping
// the reply's JSON was a tenth of the loop's time per hit. The key is every
// field the reply shows. On the loop thread only (the fast path runs there),
// a few kernels at most.
std::string hit_reply(const BtfAnswer& a) {
  // A hit is the full kernel BTF as stored: nothing minimized or rewritten
  // (whose replies carry more than the key below).
  if (a.minimized || !a.compat.empty()) return proto::encode(proto::reply(answer_json(a)));
  struct Entry {
    std::string key, text;
  };
  constexpr size_t kKept = 8;
  thread_local std::vector<Entry> kept;
  thread_local std::string key;
  thread_local size_t next = 0;
  key.clear();
  for (const std::string* f : {&a.blob.path, &a.source, &a.kernel.distro_id, &a.kernel.distro_version, &a.kernel.arch,
                               &a.kernel.release}) {
    key += *f;
    key += '\0';
  }
  key.append(reinterpret_cast<const char*>(a.blob.digest.data()), a.blob.digest.size());
  key += std::to_string(a.blob.size);
  key += a.cached ? 'c' : '-';
  key += a.exact ? 'e' : '-';
  for (const auto& e : kept)
    if (e.key == key) return e.text;
  Entry e{key, proto::encode(proto::reply(answer_json(a)))};
  if (kept.size() < kKept) return kept.emplace_back(std::move(e)).text;
  next = (next + 1) % kKept;
  kept[next] = std::move(e);
  return kept[next].text;
}
}  // namespace

ParamTypes get_btf_params() { return binding_types<Params>(kParams); }

void get_btf(Server& s, Request& r) {
  Params p = decode<Params>(r.params, kParams);
  Service& service = s.service();
  auto kid = identity_from_json(p.kernel, service.host().identity);
  if (!kid) return s.fail(r.call, std::move(kid).error().in(Domain::kernel));
  if (auto st = service.check_kernel(*kid); !st) return s.fail(r.call, std::move(st).error().in(Domain::kernel));
  if (p.objects.size() > s.config().max_objects)
    return s.fail(r.call, make_error(Errc::too_large, std::to_string(p.objects.size()) +
                                                          " objects; btfd takes at most " +
                                                          std::to_string(s.config().max_objects) + " per request")
                              .in(Domain::request));
  // "compat": the BTF rewritten for an older reader, on a worker (a pass
  // over the whole BTF is no work for the loop); "" is no rewrite.
  std::optional<btf::CompatLevel> compat;
  if (!p.compat.empty()) {
    auto level = btf::parse_compat_level(p.compat);
    if (!level) return s.fail_parameter(r.call, "compat", level.error().message);
    compat = std::move(*level);
  }
  if (!p.digests.empty()) return get_btf_by_digests(s, r, *kid, p, std::move(compat));
  std::vector<UniqueFd> objects;
  if (auto bad = take_objects(p, r.fds, &objects)) return s.fail_parameter(r.call, bad->parameter, bad->message);
  if (auto bad = check_names(p)) return s.fail_parameter(r.call, bad->parameter, bad->message);
  if (auto bad = check_modules(p)) return s.fail_parameter(r.call, bad->parameter, bad->message);
  if (!p.modules.empty() && compat)
    return s.fail_parameter(r.call, "modules", "module split BTF is not rewritten for a compatibility level: not with \"compat\"");
  if (objects.empty() && p.modules.empty() && !compat) {
    // Fast path: a verified cache hit is answered right here, without a thread hop.
    if (auto a = service.try_cached(*kid)) {
      std::string reply = hit_reply(*a);
      std::vector<UniqueFd> fds;
      fds.push_back(std::move(a->blob.fd));
      return s.answer_encoded(r.call, std::move(reply), std::move(fds));
    }
  }
  // Short of memory, a kernel at hand without objects is still answered:
  // it costs a descriptor, not a parse.
  if (!s.admit(r.conn, r.call, !objects.empty() || compat || !p.modules.empty() || !service.btf_at_hand(*kid))) return;
  s.read_objects(r.call, std::move(objects), std::move(p.names),
                 [&s, kid = std::move(*kid), opts = GetBtfOptions{p.refresh, p.report}, compat, modules = std::move(p.modules)](
                     Call call, std::vector<ClientObject> read) {
                   // A kernel whose BTF is not at hand may wait on a mirror: the hub lane.
                   // So may modules: pahole may have to make their BTF.
                   Server::Lane lane = modules.empty() ? s.lane_for(kid) : Server::Lane::hub;
                   auto objs = std::make_shared<std::vector<ClientObject>>(std::move(read));
                   auto gate = s.hub_gate(call);
                   auto progress = s.progress_replies(call);
                   s.run(std::move(call), lane,
                         [&s, kid, objs, opts, compat, modules, gate = std::move(gate), progress = std::move(progress)](
                             Call& running) -> Result<Server::Reply> {
                           BTFD_TRY(BtfAnswer a, s.service().get_btf(kid, std::move(*objs), progress, gate, opts,
                                                                     running.costs ? &running.costs->cancelled : nullptr));
                           if (compat) {
                             BTFD_TRY(a, compat_answer(std::move(a), *compat));
                           }
                           std::vector<UniqueFd> fds;
                           fds.push_back(std::move(a.blob.fd));
                           json reply = answer_json(a);
                           if (!modules.empty()) {
                             BTFD_TRY(auto ms, s.service().module_btfs(kid, modules));
                             reply["modules"] = json::array();
                             for (auto& m : ms) {
                               reply["modules"].push_back(module_json(m, fds.size()));
                               fds.push_back(std::move(m.blob.fd));
                             }
                           }
                           return Server::Reply(std::move(reply), std::move(fds));
                         });
                 });
}

}  // namespace btfd::server::methods
