// SPDX-License-Identifier: GPL-2.0-or-later
// io.btfd.ListKernels and io.btfd.Status: short bounded reads of btfd's state,
// on a thread of their own so that they answer while the Workers minimize.
#include "methods/methods.hpp"

namespace btfd::server::methods {

using nlohmann::json;

void list_kernels(Server& s, Request& r) {
  if (!s.admit(r.conn, r.call, false)) return;
  s.run(r.call, Server::Lane::control, [&s](Call&) -> Result<Server::Reply> {
    BTFD_TRY(json list, s.service().list());
    return Server::Reply(std::move(list));
  });
}

void status(Server& s, Request& r) {
  if (!s.admit(r.conn, r.call, false)) return;
  s.run(r.call, Server::Lane::control,
        [&s](Call&) -> Result<Server::Reply> { return Server::Reply(json{{"status", s.service().status()}}); });
}

}  // namespace btfd::server::methods
