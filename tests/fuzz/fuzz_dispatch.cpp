// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: whole client conversations, descriptors included, through
// the real server (dispatch, budgets, object reads, the worker pool, the
// service and a real store) over a socketpair, as a local user would send them.
//
// Input: one header byte, then the bytes the client writes. The "object"
// passed as descriptors is what follows the stream's first NUL (so a seed can
// be a call followed by a real BPF object), or the whole stream if it has none.
// Header bits 0-1: how many memfds holding the object ride with the first
// write; bit 2: one more descriptor, a pipe delivering the object; bits 3-5:
// where the stream is cut into two writes; bit 6: the descriptors ride with
// the second write instead.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "proto/varlink.hpp"
#include "methods/methods.hpp"
#include "store/store.hpp"
#include "util/log.hpp"

using namespace btfd;

namespace {

struct World {
  server::Stats stats;
  std::unique_ptr<server::Service> service;
  std::unique_ptr<server::Server> srv;
};

World& world() {
  static World* w = [] {
    auto* nw = new World;
    log::set_level(log::Level::error);
    char dir[] = "/tmp/btfd-fuzz-dispatch-XXXXXX";
    if (!::mkdtemp(dir)) ::abort();
    server::Config cfg = server::default_config();
    cfg.cache_dir = dir;
    cfg.mirrors.clear();  // misses fail fast: no network, no helper process
    cfg.workers = 2;
    cfg.object_read_sec = 1;
    auto store = store::Store::open({cfg.cache_dir, 64 << 20});
    if (!store) ::abort();
    HostInfo host;
    host.identity = {"ubuntu", "20.04", "x86_64", "5.4.0-26-generic"};
    nw->service = std::make_unique<server::Service>(cfg, std::move(store).value(), host, nw->stats);
    nw->srv = std::make_unique<server::Server>(cfg, *nw->service, nw->stats, server::methods::handlers());
    if (!nw->srv->start_detached()) ::abort();
    return nw;
  }();
  return *w;
}

int memfd_with(const uint8_t* data, size_t size) {
  int fd = ::memfd_create("object", MFD_CLOEXEC);
  if (fd >= 0 && size) (void)!::write(fd, data, size);
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  World& w = world();
  uint8_t h = data[0];
  const uint8_t* body = data + 1;
  size_t len = size - 1;
  int sv[2];
  // Non-blocking: this thread also runs the server, so a write may only ever
  // send what fits and go on later.
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) return 0;
  const uint8_t* nul = static_cast<const uint8_t*>(std::memchr(body, 0, len));
  const uint8_t* obj = nul ? nul + 1 : body;
  size_t obj_len = static_cast<size_t>(body + len - obj);
  std::vector<int> fds;
  for (int i = 0; i < (h & 3); ++i) fds.push_back(memfd_with(obj, obj_len));
  if (h & 4) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0) {
      (void)!::write(p[1], obj, std::min<size_t>(obj_len, 65536));
      ::close(p[1]);
      fds.push_back(p[0]);
    }
  }
  if (!w.srv->adopt_connection(sv[0])) ::abort();
  size_t cut = len * ((h >> 3) & 7) / 8;
  bool late = h & 0x40;
  struct Part {
    std::string bytes;
    std::vector<int> fds;
    size_t sent = 0;
  };
  std::vector<Part> parts;
  if (cut) parts.push_back({std::string(reinterpret_cast<const char*>(body), cut), late ? std::vector<int>{} : fds});
  if (len - cut)
    parts.push_back({std::string(reinterpret_cast<const char*>(body + cut), len - cut), late ? fds : std::vector<int>{}});
  size_t next = 0;
  // Run the loop until the server has answered, noticed the client is gone
  // and finished every job; read (and drop) replies so none are held back.
  char sink[65536];
  bool closed = false;
  for (int i = 0; i < 3000 && !(closed && w.srv->quiescent()); ++i) {
    while (!closed && next < parts.size()) {
      Part& part = parts[next];
      Status st = proto::send_message(sv[1], part.bytes, part.sent ? std::vector<int>{} : part.fds, &part.sent);
      if (st) {
        ++next;
        if (next == parts.size()) ::shutdown(sv[1], SHUT_WR);
      } else if (st.error().code == Errc::busy) {
        break;
      } else {
        next = parts.size();  // the server hung up
      }
    }
    if (parts.empty() && i == 0) ::shutdown(sv[1], SHUT_WR);
    sd_event_run(w.srv->event(), 2000);
    for (;;) {
      std::vector<UniqueFd> got;
      ssize_t n = proto::recv_with_fds(sv[1], std::span(reinterpret_cast<uint8_t*>(sink), sizeof sink), &got);
      if (n > 0) continue;
      if (n == 0) closed = true;
      break;
    }
    if (i == 1000 && !closed) {  // the server is waiting on us: hang up
      ::close(sv[1]);
      sv[1] = -1;
      closed = true;
    }
  }
  for (int fd : fds) ::close(fd);
  if (sv[1] >= 0) ::close(sv[1]);
  if (!w.srv->quiescent()) ::abort();  // a connection or a job that never ends
  return 0;
}
