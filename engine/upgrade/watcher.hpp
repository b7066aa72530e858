// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Notices kernels being installed while btfd runs: inotify (through sd-event) on
// the modules directories and /boot. A package install makes a burst of events;
// they are debounced, and each release that was not there at start is reported
// once, with the path of a vmlinux carrying a .BTF section if one exists.

#include <systemd/sd-event.h>

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace btfd::upgrade {

struct NewKernel {
  std::string release;
  std::string native_btf_path;  // "" when the release ships no BTF of its own
};

struct WatchOptions {
  std::string host_root;  // prefix for every path below
  std::vector<std::string> module_dirs{"/lib/modules", "/usr/lib/modules"};
  std::string boot_dir = "/boot";
  uint64_t debounce_usec = 2'000'000;
};

class Watcher {
 public:
  using Callback = std::function<void(const NewKernel&)>;
  static Result<std::unique_ptr<Watcher>> start(sd_event* loop, WatchOptions opts, Callback cb);
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;
  // Directories actually watched (missing ones are skipped).
  const std::vector<std::string>& watched() const { return watched_; }

 private:
  Watcher() = default;
  static int on_inotify(sd_event_source*, const struct inotify_event* ev, void* self);
  static int on_debounce(sd_event_source*, uint64_t, void* self);
  void note(const std::string& dir, const std::string& name);

  sd_event* loop_ = nullptr;
  WatchOptions opts_;
  Callback cb_;
  std::vector<sd_event_source*> sources_;
  sd_event_source* timer_ = nullptr;
  std::vector<std::string> watched_;
  std::set<std::string> known_, pending_;
};

}  // namespace btfd::upgrade
