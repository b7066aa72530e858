// SPDX-License-Identifier: GPL-2.0-or-later
// The cache-hit reference (not a test): the least a server can do to answer a
// GetBtf over the same socket kind. One thread, one epoll set; for each
// NUL-terminated message it opens FILE anew (as btfd opens a cached blob) and
// sends a fixed reply shaped like btfd's cache hit with that descriptor as
// SCM_RIGHTS, then closes its copy. It parses no JSON, checks no peer, keeps
// no statistics and has no budget: what btfd does beyond this is what
// bench-daemon's ratio measures.
// usage: bench-bare-server SOCKET FILE   (runs until killed)
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

namespace {

// What btfd answers for a cache hit of this host's BTF, with fixed values, so
// that the client parses as many bytes as from btfd.
constexpr char kReply[] =
    R"({"parameters":{"cached":true,"exact":true,"minimized":false,"path":"/var/cache/btfd/blobs/00/)"
    R"(0000000000000000000000000000000000000000000000000000000000000000","sha256":")"
    R"(0000000000000000000000000000000000000000000000000000000000000000","size":5242880,"source":"native"}})";

bool send_reply(int sock, int fd) {
  struct iovec iov {
    const_cast<char*>(kReply), sizeof kReply
  };  // with the NUL
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  // A reply this small fits any socket buffer of a client that waits for it
  // (the bench's clients send one call at a time), so it goes out whole.
  return ::sendmsg(sock, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof kReply);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s SOCKET FILE\n", argv[0]);
    return 2;
  }
  const char* file = argv[2];
  int lfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
  ::unlink(argv[1]);
  if (lfd < 0 || ::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || ::listen(lfd, 128) < 0) {
    std::perror(argv[1]);
    return 1;
  }
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  std::map<int, std::string> pending;  // connection -> bytes of an unfinished message
  char buf[65536];
  struct epoll_event events[64];
  for (;;) {
    int n = ::epoll_wait(ep, events, 64, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return 1;
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == lfd) {
        int c;
        while ((c = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
          ev.events = EPOLLIN;
          ev.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
          pending[c];
        }
        continue;
      }
      ssize_t got = ::recv(fd, buf, sizeof buf, 0);
      if (got < 0 && errno == EAGAIN) continue;
      bool ok = got > 0;
      std::string& in = pending[fd];
      in.append(buf, got > 0 ? static_cast<size_t>(got) : 0);
      for (size_t end; ok && (end = in.find('\0')) != std::string::npos;) {
        in.erase(0, end + 1);
        int blob = ::open(file, O_RDONLY | O_CLOEXEC);
        ok = blob >= 0 && send_reply(fd, blob);
        if (blob >= 0) ::close(blob);
      }
      if (!ok) {
        ::close(fd);  // also leaves the epoll set
        pending.erase(fd);
      }
    }
  }
}
