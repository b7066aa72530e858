// SPDX-License-Identifier: GPL-2.0-or-later
// btfd entry point: configuration, engine and server wired together.
#include <malloc.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstdio>

#include "kernel/identity.hpp"
#include "config/config.hpp"
#include "methods/methods.hpp"
#include "varlink/server.hpp"
#include "service/service.hpp"
#include "store/store.hpp"
#include "util/log.hpp"
#include "util/sha256.hpp"

using namespace btfd;

int main(int argc, char** argv) {
  // A fixed threshold keeps glibc from raising it after the first big free:
  // parsed kernels' indexes (megabytes) then live in their own mappings and go
  // back to the system when a hot kernel is dropped.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  // What the budgets allow at most (connections, descriptors clients pass,
  // replies queued with a descriptor each, and our own files) must fit the fd
  // table, or a full table would stall everyone. The unit sets LimitNOFILE=;
  // by hand, raise the soft limit as far as the hard one allows.
  struct rlimit nofile {};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < 8192 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = std::min<rlim_t>(8192, nofile.rlim_max);
    (void)::setrlimit(RLIMIT_NOFILE, &nofile);
  }
  server::Config cfg = server::default_config();
  int exit_code = 0;
  auto go = server::apply_flags(cfg, argc, argv, &exit_code);
  if (!go) {
    std::fprintf(stderr, "btfd: %s\n", go.error().message.c_str());
    return 2;
  }
  if (!*go) return exit_code;
  log::Level level;
  if (!log::parse_level(cfg.log_level, &level)) {
    std::fprintf(stderr, "btfd: unknown log level \"%s\"\n", cfg.log_level.c_str());
    return 2;
  }
  log::set_level(level);
  // Without a socket from systemd and without --socket, a start by hand would
  // create the cache as root (breaking the unit's DynamicUser= cache later) and
  // then fail to bind /run/btfd, which only systemd creates: say so up front.
  if (sd_listen_fds(0) <= 0 && cfg.socket_path.empty()) {
    std::fprintf(stderr,
                 "btfd: no socket from systemd and no --socket given; start it with "
                 "\"systemctl start btfd.socket\", or by hand with --socket PATH --cache-dir DIR\n");
    return 2;
  }
  // Everything btfd stores is named by its SHA-256.
  if (auto st = sha256_available(); !st) {
    log_error("%s", st.error().message.c_str());
    return 1;
  }
  auto host = detect_host(cfg.host_root);
  if (!host) {
    log_error("cannot identify this host: %s", host.error().message.c_str());
    return 1;
  }
  store::Options store_opts{cfg.cache_dir, cfg.cache_budget};
  store_opts.remembered_per_uid = cfg.remembered_objects_per_user;
  store_opts.remembered_bytes_per_uid = cfg.remembered_object_bytes_per_user;
  auto store = store::Store::open(store_opts);
  if (!store) {
    log_error("cannot open the cache: %s", store.error().message.c_str());
    return 1;
  }
  if (auto u = (*store)->usage(); u.index_rebuilt)
    log_warning("%s", u.index_note.c_str());  // served anyway: the cache refills
  server::Stats stats;
  const std::string stats_path = cfg.cache_dir + "/stats.json";
  if (auto st = stats.load(stats_path); !st)
    log_warning("counters start from zero: %s", st.error().message.c_str());
  server::Service service(cfg, std::move(store).value(), *host, stats);
  server::Server srv(cfg, service, stats, server::methods::handlers());
  auto rc = srv.run();
  if (auto st = stats.save(stats_path); !st) log_warning("cannot keep the counters: %s", st.error().message.c_str());
  if (!rc) {
    log_error("%s", rc.error().message.c_str());
    return 1;
  }
  return *rc;
}
