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

namespace {
// A descriptor that can be told apart: the read end of a new pipe.
UniqueFd marker_fd() {
  int p[2];
  REQUIRE(pipe2(p, O_CLOEXEC) == 0);
  close(p[1]);
  return UniqueFd(p[0]);
}
std::vector<UniqueFd> one(UniqueFd fd) {
  std::vector<UniqueFd> v;
  v.push_back(std::move(fd));
  return v;
}
}  // namespace

TEST_CASE("pipelined messages keep their own descriptors (the last message starting in a chunk gets its fds)") {
  FrameReader r;
  UniqueFd fa = marker_fd(), fb = marker_fd();
  int a = fa.get(), b = fb.get();
  std::string m1 = encode({{"method", "one"}}), m2 = encode({{"method", "two"}});
  // As the kernel delivers two sendmsg()s glued into one read: the first
  // message's bytes, then the second's with its fds (a read stops after them).
  REQUIRE(r.feed(bytes(m1.substr(0, 4)), one(std::move(fa))).ok());
  REQUIRE(r.feed(bytes(m1.substr(4) + m2), one(std::move(fb))).ok());
  auto first = r.next();
  REQUIRE(first.ok());
  REQUIRE(first->has_value());
  CHECK((*first)->json["method"] == "one");
  REQUIRE((*first)->fds.size() == 1);
  CHECK((*first)->fds[0].get() == a);
  auto second = r.next();
  REQUIRE(second.ok());
  REQUIRE(second->has_value());
  CHECK((*second)->json["method"] == "two");
  REQUIRE((*second)->fds.size() == 1);
  CHECK((*second)->fds[0].get() == b);
  CHECK(r.fds_held() == 0);
}

TEST_CASE("descriptors arriving in the middle of a message, or twice for one message, are protocol errors") {
  FrameReader r;
  std::string m = encode({{"method", "x"}});
  REQUIRE(r.feed(bytes(m.substr(0, 3)), {}).ok());
  auto mid = r.feed(bytes(m.substr(3, 3)), one(marker_fd()));
  REQUIRE_FALSE(mid.ok());
  CHECK(mid.error().code == Errc::protocol);
  FrameReader r2;
  REQUIRE(r2.feed(bytes(m.substr(0, 3)), one(marker_fd())).ok());
  CHECK(r2.fds_held() == 1);
  // Bytes of the same message again with fds: no message starts in them.
  CHECK_FALSE(r2.feed(bytes(m.substr(3, 2)), one(marker_fd())).ok());
}

TEST_CASE("nesting deeper than kMaxJsonDepth is refused before parsing; strings do not count") {
  std::string deep = std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  auto r = parse_message("{\"a\":" + deep + "}");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::protocol);
  CHECK(r.error().message.find("nested") != std::string::npos);
  std::string ok = std::string(kMaxJsonDepth - 1, '[') + std::string(kMaxJsonDepth - 1, ']');
  CHECK(parse_message("{\"a\":" + ok + "}").ok());
  // Brackets inside strings (escaped quotes too) are text, not nesting.
  CHECK(parse_message("{\"a\":\"" + std::string(1000, '[') + "\\\"[[[\"}").ok());
}

TEST_CASE("a name given twice in one object is refused, at any depth; the same name in two objects is not") {
  auto top = parse_message(R"({"method":"io.btfd.Status","method":"io.btfd.Refresh"})");
  REQUIRE_FALSE(top.ok());
  CHECK(top.error().message == "message names \"method\" twice in one object");
  CHECK_FALSE(parse_message(R"({"parameters":{"kernel":{"release":"a","release":"b"}}})").ok());
  CHECK(parse_message(R"({"a":{"x":1},"b":{"x":2},"c":[{"x":1},{"x":2}]})").ok());
}

TEST_CASE("encoding never throws on invalid UTF-8") {
  nlohmann::json j = {{"name", std::string("task_struc\xff")}};
  std::string out;
  CHECK_NOTHROW(out = encode(j));
  CHECK(out.back() == '\0');
  CHECK(parse_message(std::string_view(out).substr(0, out.size() - 1)).ok());
}
