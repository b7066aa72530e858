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

#include "util/fd.hpp"
#include "util/result.hpp"

namespace btfd::proto {

inline constexpr const char* kInterface = "io.btfd";
inline constexpr size_t kMaxMessageBytes = 64 * 1024;  // a request never needs more
inline constexpr size_t kMaxReplyBytes = 16 << 20;      // listings can be long
inline constexpr size_t kMaxFdsPerMessage = 16;

// Error names of the io.btfd interface (documented in docs/protocol.md).
namespace errors {
inline constexpr const char* kKernelNotInHub = "io.btfd.KernelNotInHub";
inline constexpr const char* kHubUnreachable = "io.btfd.HubUnreachable";
inline constexpr const char* kInvalidObject = "io.btfd.InvalidObject";
inline constexpr const char* kInvalidKernel = "io.btfd.InvalidKernel";
inline constexpr const char* kPermissionDenied = "io.btfd.PermissionDenied";
inline constexpr const char* kTooLarge = "io.btfd.TooLarge";
inline constexpr const char* kBusy = "io.btfd.Busy";
inline constexpr const char* kStoreError = "io.btfd.StoreError";
inline constexpr const char* kInternal = "io.btfd.Internal";
inline constexpr const char* kMethodNotFound = "org.varlink.service.MethodNotFound";
inline constexpr const char* kInterfaceNotFound = "org.varlink.service.InterfaceNotFound";
inline constexpr const char* kInvalidParameter = "org.varlink.service.InvalidParameter";
}  // namespace errors

struct Message {
  nlohmann::json json;
  std::vector<UniqueFd> fds;
};

// Accumulates bytes and fds from a stream and splits them into messages.
class FrameReader {
 public:
  explicit FrameReader(size_t max_message = kMaxMessageBytes) : max_(max_message) {}
  // Appends received data; fails (protocol/too_large) on an oversized message.
  Status feed(std::span<const uint8_t> bytes, std::vector<UniqueFd> fds);
  // Next complete message, if any. Malformed JSON or a non-object is an error.
  Result<std::optional<Message>> next();
  size_t buffered() const { return buf_.size(); }

 private:
  size_t max_;
  std::string buf_;
  std::deque<UniqueFd> fds_;  // fds not yet claimed by a message
  std::vector<size_t> fd_marks_;  // fds_ count at the end of each feed
};

// Parses one complete message (without the NUL) — the fuzzer's entry point.
Result<nlohmann::json> parse_message(std::string_view text);
// Serializes j and appends the terminating NUL.
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
  static Result<Client> connect(const std::string& socket_path, int timeout_ms = 30000);
  // Sends a call. With more=true, on_reply sees every reply until one without
  // "continues". Returns the final reply (which may be an error reply).
  Result<Message> call(const std::string& method, const nlohmann::json& parameters, std::span<const int> fds = {},
                       bool more = false, const std::function<void(const Message&)>& on_reply = {});
  void set_timeout_ms(int ms) { timeout_ms_ = ms; }

 private:
  UniqueFd fd_;
  FrameReader reader_{kMaxReplyBytes};
  int timeout_ms_ = 30000;
};

}  // namespace btfd::proto
