// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once
// The one wire codec, shared by btfd, libbtfd, btfctl and the fuzzer: Varlink
// messages (NUL-terminated JSON on an AF_UNIX stream socket) with file
// descriptors passed beside them as SCM_RIGHTS ancillary data, as systemd's
// sd-varlink does. A message's fds are those received with its bytes.

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "proto/errors.hpp"
#include "util/fd.hpp"
#include "util/result.hpp"

namespace btfd::proto {

inline constexpr const char* kInterface = "io.btfd";
inline constexpr size_t kMaxMessageBytes = 64 * 1024;  // a request never needs more
inline constexpr size_t kMaxReplyBytes = 16 << 20;      // listings can be long
inline constexpr size_t kMaxFdsPerMessage = 16;


struct Message {
  nlohmann::json json;
  std::vector<UniqueFd> fds;
};

// Accumulates bytes and fds from a stream and splits them into messages.
//
// Which message a descriptor belongs to (docs/protocol.md, "Descriptors"): a
// sender passes a message's fds in the same sendmsg() as the message's first
// byte, and that write holds no other message's start. The kernel never reads
// past a chunk that carried fds, so the fds of one recvmsg() belong to the last
// message that starts in its bytes. fds that arrive where no message starts are
// a protocol error, as are two batches for one message.
class FrameReader {
 public:
  explicit FrameReader(size_t max_message = kMaxMessageBytes) : max_(max_message) {}
  // Appends one recvmsg()'s bytes and fds; fails (protocol/too_large) on an
  // oversized message or misplaced descriptors.
  Status feed(std::span<const uint8_t> bytes, std::vector<UniqueFd> fds);
  // Next complete message, if any. Malformed JSON or a non-object is an error.
  Result<std::optional<Message>> next();
  size_t buffered() const { return buf_.size(); }
  // True when a whole message is buffered (next() would return one or an error).
  bool has_message() const { return buf_.find('\0') != std::string::npos; }
  // Descriptors received and not yet handed out with a message.
  size_t fds_held() const;

 private:
  size_t max_;
  std::string buf_;
  uint64_t consumed_ = 0;  // stream offset of buf_[0]
  // Stream offset of a message's first byte -> the fds that came with it.
  std::deque<std::pair<uint64_t, std::vector<UniqueFd>>> fds_;
};

// Deepest nesting of arrays/objects a message may have: no request needs more
// than 4, and every later walk over the tree (copy, dump, destroy) recurses.
inline constexpr int kMaxJsonDepth = 16;

// Parses one complete message (without the NUL) — the fuzzer's entry point.
// Nesting deeper than kMaxJsonDepth is refused before a tree is built.
Result<nlohmann::json> parse_message(std::string_view text);
// Serializes j and appends the terminating NUL. Never throws: invalid UTF-8
// in strings is replaced (U+FFFD).
std::string encode(const nlohmann::json& j);

// Reads from a socket with recvmsg(), collecting SCM_RIGHTS fds (MSG_CMSG_CLOEXEC).
// Returns 0 at EOF; -1 with errno EAGAIN when nothing is there (non-blocking).
ssize_t recv_with_fds(int sock, std::span<uint8_t> buf, std::vector<UniqueFd>* fds);
// Sends the whole message; fds ride with the first byte. Blocking or not,
// according to the socket (EAGAIN is returned as Errc::busy with sent bytes set).
Status send_message(int sock, const std::string& bytes, std::span<const int> fds, size_t* sent = nullptr);

// The usual replies.
nlohmann::json reply(nlohmann::json parameters, bool continues = false);
nlohmann::json error_reply(const std::string& name, nlohmann::json parameters = nlohmann::json::object());

// Blocking client connection, used by libbtfd and btfctl.
class Client {
 public:
  // timeout_ms also bounds connect() itself: a btfd whose listen backlog is
  // full leaves a blocking connect() waiting (SO_SNDTIMEO bounds it).
  static Result<Client> connect(const std::string& socket_path, int timeout_ms = 30000);
  // Sends a call. With more=true, on_reply sees every reply until one without
  // "continues". Returns the final reply (which may be an error reply).
  Result<Message> call(const std::string& method, const nlohmann::json& parameters, std::span<const int> fds = {},
                       bool more = false, const std::function<void(const Message&)>& on_reply = {});
  // How long to wait for each piece of a reply (btfctl: progress keeps a long
  // prefetch alive); -1: for ever.
  void set_timeout_ms(int ms) { timeout_ms_ = ms; }
  // Bounds each whole call, sending included (libbtfd: an agent's way out of a
  // stuck btfd or mirror); 0: no bound. A call that runs out of time fails with
  // Errc::timeout and closes the connection, since a late reply would be read
  // as the next call's.
  void set_call_timeout_ms(int ms);
  bool connected() const { return static_cast<bool>(fd_); }

 private:
  UniqueFd fd_;
  FrameReader reader_{kMaxReplyBytes};
  int timeout_ms_ = 30000;
  int call_timeout_ms_ = 0;
};

}  // namespace btfd::proto
