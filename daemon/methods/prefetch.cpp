// SPDX-License-Identifier: GPL-2.0-or-later
// io.btfd.Prefetch: a kernel's BTF fetched ahead of time (and pre-minimized
// for recently seen objects), with progress for calls made with "more".
#include "methods/methods.hpp"
#include "varlink/params.hpp"

namespace btfd::server::methods {

using nlohmann::json;

namespace {
struct Params {
  json kernel;
  bool pin = true;
};
const Binding<Params> kParams[] = {bind<&Params::kernel>("kernel"), bind<&Params::pin>("pin")};
}  // namespace

ParamTypes prefetch_params() { return binding_types<Params>(kParams); }

void prefetch(Server& s, Request& r) {
  Params p = decode<Params>(r.params, kParams);
  auto kid = identity_from_json(p.kernel, s.service().host().identity);
  if (!kid) return s.fail(r.call, std::move(kid).error().in(Domain::kernel));
  if (auto st = s.service().check_kernel(*kid); !st) return s.fail(r.call, std::move(st).error().in(Domain::kernel));
  if (!s.admit(r.conn, r.call)) return;
  Server::Lane lane = s.lane_for(*kid);
  s.run(r.call, lane, [&s, kid = std::move(*kid), pin = p.pin](Call& running) -> Result<Server::Reply> {
    BTFD_TRY(auto done, s.service().prefetch(kid, pin, s.progress_replies(running)));
    return Server::Reply(json{{"state", "done"}, {"result", std::move(done)}});
  });
}

}  // namespace btfd::server::methods
