// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/varlink.hpp"

using namespace btfd;
using namespace btfd::proto;

static std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST_CASE("messages split on NUL, across reads and several per read") {
  FrameReader r;
  std::string two = encode({{"method", "a"}}) + encode({{"method", "b"}});
  REQUIRE(r.feed(bytes(two.substr(0, 5)), {}).ok());
  auto none = r.next();
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  REQUIRE(r.feed(bytes(two.substr(5)), {}).ok());
  auto a = r.next();
  REQUIRE(a.ok());
  REQUIRE(a->has_value());
  CHECK((*a)->json["method"] == "a");
  auto b = r.next();
  REQUIRE(b.ok());
  REQUIRE(b->has_value());
  CHECK((*b)->json["method"] == "b");
}

TEST_CASE("malformed, non-object and oversized messages are errors") {
  FrameReader r(64);
  REQUIRE(r.feed(bytes(std::string("{nope") + '\0'), {}).ok());
  CHECK_FALSE(r.next().ok());
  FrameReader r2(64);
  REQUIRE(r2.feed(bytes(std::string("[1,2]") + '\0'), {}).ok());
  auto arr = r2.next();
  REQUIRE_FALSE(arr.ok());
  CHECK(arr.error().code == Errc::protocol);
  FrameReader r3(64);
  auto big = r3.feed(bytes(std::string(100, 'x')), {});
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().code == Errc::too_large);
}

TEST_CASE("file descriptors travel with their message over a socket pair") {
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  UniqueFd a(sv[0]), b(sv[1]);
  int p[2];
  REQUIRE(pipe2(p, O_CLOEXEC) == 0);
  UniqueFd pr(p[0]), pw(p[1]);
  int fds[] = {pw.get()};
  REQUIRE(send_message(a.get(), encode({{"method", "x"}, {"parameters", {{"objects", {0}}}}}), fds).ok());
  std::vector<uint8_t> buf(4096);
  std::vector<UniqueFd> got;
  ssize_t n = recv_with_fds(b.get(), buf, &got);
  REQUIRE(n > 0);
  FrameReader r;
  REQUIRE(r.feed(std::span(buf.data(), static_cast<size_t>(n)), std::move(got)).ok());
  auto m = r.next();
  REQUIRE(m.ok());
  REQUIRE(m->has_value());
  REQUIRE((*m)->fds.size() == 1);
  CHECK((fcntl((*m)->fds[0].get(), F_GETFD) & FD_CLOEXEC) != 0);
  // The received descriptor is the pipe's write end: bytes arrive at the read end.
  REQUIRE(write((*m)->fds[0].get(), "z", 1) == 1);
  char c = 0;
  REQUIRE(read(pr.get(), &c, 1) == 1);
  CHECK(c == 'z');
}
