// SPDX-License-Identifier: GPL-2.0-or-later
// The administrator's methods: io.btfd.Refresh (what btfd-refresh.timer runs;
// it may wait on mirrors: the hub lane), GarbageCollect and Verify.
#include "methods/methods.hpp"

namespace btfd::server::methods {

using nlohmann::json;

namespace {
// Runs one of the service's maintenance jobs for the call.
void run_job(Server& s, Request& r, Server::Lane lane, Result<json> (Service::*job)()) {
  if (!s.admit(r.conn, r.call)) return;
  s.run(r.call, lane, [&s, job](Call&) -> Result<Server::Reply> {
    BTFD_TRY(json out, (s.service().*job)());
    return Server::Reply(std::move(out));
  });
}
}  // namespace

void refresh(Server& s, Request& r) { run_job(s, r, Server::Lane::hub, &Service::refresh); }
void garbage_collect(Server& s, Request& r) { run_job(s, r, Server::Lane::fast, &Service::gc); }
void verify(Server& s, Request& r) { run_job(s, r, Server::Lane::fast, &Service::verify); }

}  // namespace btfd::server::methods
