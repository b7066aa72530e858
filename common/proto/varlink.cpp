// SPDX-License-Identifier: LGPL-2.1-or-later
#include "proto/varlink.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>
#include <unordered_set>

namespace btfd::proto {

Status FrameReader::feed(std::span<const uint8_t> bytes, std::vector<UniqueFd> fds) {
  uint64_t chunk_begin = consumed_ + buf_.size();
  bool starts_here = buf_.empty() || buf_.back() == '\0';
  buf_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (!fds.empty()) {
    if (fds.size() > kMaxFdsPerMessage) return make_error(Errc::too_large, "too many file descriptors in one message");
    // The last message that starts within this chunk.
    std::optional<uint64_t> start;
    if (starts_here && !bytes.empty()) start = chunk_begin;
    for (size_t i = 0; i + 1 < bytes.size(); ++i)
      if (bytes[i] == 0) start = chunk_begin + i + 1;
    if (!start)
      return make_error(Errc::protocol, "file descriptors arrived in the middle of a message (send them with its first byte)");
    if (!fds_.empty() && fds_.back().first == *start)
      return make_error(Errc::protocol, "file descriptors for one message arrived in two batches");
    fds_.emplace_back(*start, std::move(fds));
  }
  size_t nul = buf_.find('\0');
  if ((nul == std::string::npos ? buf_.size() : nul) > max_)
    return make_error(Errc::too_large, "message larger than " + std::to_string(max_) + " bytes");
  return {};
}

size_t FrameReader::fds_held() const {
  size_t n = 0;
  for (const auto& [_, v] : fds_) n += v.size();
  return n;
}

namespace {
// Nesting depth of the arrays and objects in text, counted without building
// anything; stops counting once past the limit.
bool nested_deeper_than(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char ch : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (ch == '\\') escaped = true;
      else if (ch == '"') in_string = false;
      continue;
    }
    if (ch == '"') in_string = true;
    else if (ch == '{' || ch == '[') {
      if (++depth > limit) return true;
    } else if (ch == '}' || ch == ']') {
      --depth;
    }
  }
  return false;
}
}  // namespace

Result<nlohmann::json> parse_message(std::string_view text) {
  if (nested_deeper_than(text, kMaxJsonDepth))
    return make_error(Errc::protocol, "message is nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  // A name given twice is refused, not settled by "the last one wins": a
  // filter reading the first and btfd the last would disagree on the call.
  std::vector<std::unordered_set<std::string>> keys;  // one per open object
  std::string duplicate;
  auto cb = [&](int, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (ev == E::object_start) keys.emplace_back();
    else if (ev == E::object_end && !keys.empty()) keys.pop_back();
    else if (ev == E::key && !keys.empty()) {
      const std::string& k = parsed.get_ref<const std::string&>();
      if (!keys.back().insert(k).second && duplicate.empty()) duplicate = k;
    }
    return true;
  };
  auto j = nlohmann::json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(Errc::protocol, "message is not valid JSON");
  if (!duplicate.empty())
    return make_error(Errc::protocol, "message names \"" + duplicate.substr(0, 64) + "\" twice in one object");
  if (!j.is_object()) return make_error(Errc::protocol, "message is not a JSON object");
  return j;
}

Result<std::optional<Message>> FrameReader::next() {
  size_t nul = buf_.find('\0');
  if (nul == std::string::npos) return std::optional<Message>();
  Message m;
  uint64_t start = consumed_;
  auto j = parse_message(std::string_view(buf_).substr(0, nul));
  buf_.erase(0, nul + 1);
  consumed_ += nul + 1;
  while (!fds_.empty() && fds_.front().first <= start) {
    if (fds_.front().first == start) m.fds = std::move(fds_.front().second);
    fds_.pop_front();
  }
  if (!j) return std::move(j).error();
  m.json = std::move(j).value();
  return std::optional<Message>(std::move(m));
}

std::string encode(const nlohmann::json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  s.push_back('\0');
  return s;
}

ssize_t recv_with_fds(int sock, std::span<uint8_t> buf, std::vector<UniqueFd>* fds) {
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  struct iovec iov {buf.data(), buf.size()};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0) return n;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds->emplace_back(fd);
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    errno = EMSGSIZE;  // the sender passed more fds than any message may carry
    return -1;
  }
  return n;
}

Status send_message(int sock, const std::string& bytes, std::span<const int> fds, size_t* sent) {
  if (fds.size() > kMaxFdsPerMessage) return make_error(Errc::too_large, "too many file descriptors");
  size_t off = sent ? *sent : 0;
  while (off < bytes.size()) {
    struct iovec iov {const_cast<char*>(bytes.data() + off), bytes.size() - off};
    struct msghdr msg {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)] = {};
    if (off == 0 && !fds.empty()) {
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (sent) *sent = off;
      if (errno == EAGAIN) return make_error(Errc::busy, "socket buffer full");
      return sys_error(errno, "send");
    }
    off += static_cast<size_t>(n);
  }
  if (sent) *sent = off;
  return {};
}

nlohmann::json reply(nlohmann::json parameters, bool continues) {
  nlohmann::json j = {{"parameters", std::move(parameters)}};
  if (continues) j["continues"] = true;
  return j;
}

nlohmann::json error_reply(const std::string& name, nlohmann::json parameters) {
  return {{"error", name}, {"parameters", std::move(parameters)}};
}

namespace {
void set_send_timeout(int fd, int ms) {
  struct timeval tv {ms / 1000, (ms % 1000) * 1000};
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int64_t now_ms() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}
}  // namespace

Result<Client> Client::connect(const std::string& path, int timeout_ms) {
  struct sockaddr_un sa {};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) return make_error(Errc::invalid_argument, "socket path too long: \"" + path + "\"");
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return sys_error(errno, "socket");
  Client c;
  c.fd_.reset(fd);
  c.timeout_ms_ = timeout_ms;
  if (timeout_ms > 0) set_send_timeout(fd, timeout_ms);
  int r;
  do r = ::connect(fd, reinterpret_cast<struct sockaddr*>(&sa), sizeof sa);
  while (r < 0 && errno == EINTR);
  if (r < 0 && errno == EAGAIN && timeout_ms > 0)
    return make_error(Errc::timeout, "btfd at \"" + path + "\" did not accept the connection within " +
                                         std::to_string(timeout_ms) + " ms");
  if (r < 0) {
    Error e = sys_error(errno, "cannot connect to btfd at \"" + path + "\"");
    e.code = Errc::unreachable;
    return e;
  }
  return c;
}

void Client::set_call_timeout_ms(int ms) {
  call_timeout_ms_ = ms > 0 ? ms : 0;
  if (fd_) set_send_timeout(fd_.get(), call_timeout_ms_);  // 0: sends block for ever again
}

Result<Message> Client::call(const std::string& method, const nlohmann::json& parameters, std::span<const int> fds,
                             bool more, const std::function<void(const Message&)>& on_reply) {
  if (!fd_) return make_error(Errc::unreachable, "the connection to btfd was closed after a timeout");
  nlohmann::json call = {{"method", method}, {"parameters", parameters}};
  if (more) call["more"] = true;
  std::vector<uint8_t> buf(64 * 1024);
  const int64_t deadline = call_timeout_ms_ > 0 ? now_ms() + call_timeout_ms_ : 0;
  auto timed_out = [&] {
    fd_.reset();  // a late reply must not answer the next call
    reader_ = FrameReader(kMaxReplyBytes);
    return make_error(Errc::timeout, "btfd did not answer within " + std::to_string(call_timeout_ms_) + " ms");
  };
  if (auto st = send_message(fd_.get(), encode(call), fds); !st) {
    // A blocking send that gave up (SO_SNDTIMEO): btfd reads nothing.
    if (deadline && st.error().code == Errc::busy) return timed_out();
    // btfd may have refused the connection with a reply (Busy) and closed it
    // before the call went out: that reply says more than "broken pipe".
    std::vector<UniqueFd> got;
    ssize_t n = recv_with_fds(fd_.get(), buf, &got);
    if (n > 0 && reader_.feed(std::span(buf.data(), static_cast<size_t>(n)), std::move(got))) {
      auto early = reader_.next();
      if (early && *early) return std::move(**early);
    }
    return std::move(st).error();
  }
  for (;;) {
    BTFD_TRY(auto msg, reader_.next());
    if (msg) {
      auto c = msg->json.find("continues");
      bool continues = c != msg->json.end() && c->is_boolean() && c->get<bool>();
      if (!continues || !more) return std::move(*msg);
      if (on_reply) on_reply(*msg);
      continue;
    }
    int wait_ms = timeout_ms_;
    if (deadline) {
      int64_t left = deadline - now_ms();
      if (left <= 0) return timed_out();
      if (wait_ms < 0 || left < wait_ms) wait_ms = static_cast<int>(left);
    }
    struct pollfd p {fd_.get(), POLLIN, 0};
    int r = ::poll(&p, 1, wait_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return sys_error(errno, "poll");
    if (r == 0 && deadline && deadline - now_ms() <= 0) return timed_out();
    if (r == 0) return make_error(Errc::timeout, "btfd did not answer within " + std::to_string(timeout_ms_ / 1000) + " s");
    std::vector<UniqueFd> got;
    ssize_t n = recv_with_fds(fd_.get(), buf, &got);
    if (n < 0 && errno == EAGAIN) continue;
    if (n < 0) return sys_error(errno, "receive from btfd");
    if (n == 0) return make_error(Errc::unreachable, "btfd closed the connection");
    BTFD_TRY_VOID(reader_.feed(std::span(buf.data(), static_cast<size_t>(n)), std::move(got)));
  }
}

}  // namespace btfd::proto
