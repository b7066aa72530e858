// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/daemon_call.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "btfd-config.h"
#include "proto/interface.hpp"

namespace btfctl {

std::string socket_path(const Globals& g) {
  if (!g.socket.empty()) return g.socket;
  const char* env = std::getenv("BTFD_SOCKET");
  return env && *env ? env : BTFD_DEFAULT_SOCKET;
}

btfd::Result<btfd::proto::Client> connect_daemon(const Globals& g, int timeout_ms) {
  return btfd::proto::Client::connect(socket_path(g), timeout_ms);
}

namespace {
// Under the shipped units, members of the btfd-admin group reach privileged
// methods (the interface table marks them) through the admin socket; use it
// when it is ours to use.
std::string socket_for(const Globals& g, const std::string& method) {
  bool defaulted = g.socket.empty() && !(std::getenv("BTFD_SOCKET") && *std::getenv("BTFD_SOCKET"));
  if (defaulted && ::geteuid() != 0 && ::access(BTFD_ADMIN_SOCKET, W_OK) == 0)
    if (auto m = btfd::proto::idl::find_method(method); m && m->method->access == btfd::proto::idl::Access::privileged)
      return BTFD_ADMIN_SOCKET;
  return socket_path(g);
}
}  // namespace

btfd::Result<btfd::proto::Message> call_daemon_raw(const Globals& g, const std::string& method,
                                                   const nlohmann::json& params, std::span<const int> fds, bool more,
                                                   const std::function<void(const btfd::proto::Message&)>& on_reply,
                                                   int timeout_ms) {
  auto connected = btfd::proto::Client::connect(socket_for(g, method), timeout_ms);
  if (!connected) {
    btfd::Error e = std::move(connected).error();
    // Nobody listening on the default socket is almost always a socket unit
    // that is not running; on a socket the user named, btfd started by hand.
    if (e.code == btfd::Errc::unreachable && (e.sys_errno == ENOENT || e.sys_errno == ECONNREFUSED))
      e.message += socket_for(g, method) == BTFD_DEFAULT_SOCKET || socket_for(g, method) == BTFD_ADMIN_SOCKET
                       ? " (is btfd.socket running? systemctl enable --now btfd.socket)"
                       : " (is a btfd listening there? start one with btfd --socket PATH)";
    return e;
  }
  auto client = std::move(connected).value();
  return client.call(method, params, fds, more, on_reply);
}

btfd::Result<btfd::proto::Message> call_daemon(const Globals& g, const std::string& method,
                                               const nlohmann::json& params, std::span<const int> fds, bool more,
                                               const std::function<void(const btfd::proto::Message&)>& on_reply,
                                               int timeout_ms) {
  BTFD_TRY(auto msg, call_daemon_raw(g, method, params, fds, more, on_reply, timeout_ms));
  if (msg.json.contains("error")) return reply_error(msg.json);
  return msg;
}

btfd::Error reply_error(const nlohmann::json& reply) {
  std::string name = reply.contains("error") && reply["error"].is_string() ? reply["error"].get<std::string>() : "?";
  const nlohmann::json* p = reply.contains("parameters") && reply["parameters"].is_object() ? &reply["parameters"] : nullptr;
  auto text_of = [&](const char* field) {
    return p && p->contains(field) && (*p)[field].is_string() ? (*p)[field].get<std::string>() : std::string();
  };
  std::string text = text_of("message"), parameter = text_of("parameter");
  btfd::Errc code = btfd::proto::error_info(name).code;
  std::string shown = name.substr(name.rfind('.') + 1);
  if (!parameter.empty()) shown += " \"" + parameter + "\"";
  btfd::Error err = btfd::make_error(code, shown + (text.empty() ? "" : ": " + text));
  // Hub trouble is not "btfd unreachable": keep exit code 1 for it.
  if (code == btfd::Errc::unreachable) err.code = btfd::Errc::io;
  return err;
}

ProgressDisplay::ProgressDisplay(const Globals& g, bool lines_off_terminal) {
  if (g.quiet || g.json) return;
  bar_ = ::isatty(STDERR_FILENO);
  lines_ = !bar_ && lines_off_terminal;
}

void ProgressDisplay::operator()(const btfd::proto::Message& m) {
  if (!m.json.contains("parameters") || !m.json["parameters"].is_object()) return;
  const auto& p = m.json["parameters"];
  if (p.value("state", "") != "progress") return;
  uint64_t done = p.value("downloaded", 0ull), total = p.value("total", 0ull);
  if (bar_) {
    draw(done, total);
  } else if (lines_) {
    std::fprintf(stderr, "downloaded %s\n", human_size(done).c_str());
  }
}

void ProgressDisplay::draw(uint64_t done, uint64_t total) {
  if (total) {
    total_ = total;
    int width = 40;
    int fill = static_cast<int>(static_cast<double>(std::min(done, total)) / static_cast<double>(total) * width);
    std::fprintf(stderr, "\r[%-*s] %s / %s", width, std::string(static_cast<size_t>(fill), '#').c_str(),
                 human_size(done).c_str(), human_size(total).c_str());
  } else {
    std::fprintf(stderr, "\rdownloaded %s", human_size(done).c_str());
  }
  drawn_ = true;
}

void ProgressDisplay::finish(bool complete) {
  if (drawn_ && complete && total_) draw(total_, total_);
  if (drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

std::string human_size(uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", v, units[u]);
  return buf;
}

std::string kernel_string(const nlohmann::json& k) {
  return k.value("distro", "?") + "/" + k.value("version", "?") + "/" + k.value("arch", "?") + "/" + k.value("release", "?");
}

}  // namespace btfctl
