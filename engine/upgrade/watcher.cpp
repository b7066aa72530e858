// SPDX-License-Identifier: GPL-2.0-or-later
#include "upgrade/watcher.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "kernel/identity.hpp"
#include "upgrade/installed.hpp"

namespace btfd::upgrade {
namespace {

constexpr const char* kBootPrefix = "vmlinuz-";

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> list(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (struct dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') out.emplace_back(e->d_name);
    ::closedir(d);
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Watcher>> Watcher::start(sd_event* loop, WatchOptions opts, Callback cb) {
  std::unique_ptr<Watcher> w(new Watcher());
  w->loop_ = loop;
  w->opts_ = std::move(opts);
  w->cb_ = std::move(cb);
  std::vector<std::string> dirs;
  for (const auto& d : w->opts_.module_dirs) dirs.push_back(host_path(w->opts_.host_root, d));
  std::string boot = host_path(w->opts_.host_root, w->opts_.boot_dir);
  dirs.push_back(boot);
  for (const auto& dir : dirs) {
    if (!is_dir(dir)) continue;
    bool is_boot = dir == boot;
    // What is there at start is not new.
    for (const auto& name : list(dir)) {
      if (!is_boot) w->known_.insert(name);
      else if (name.rfind(kBootPrefix, 0) == 0) w->known_.insert(name.substr(std::strlen(kBootPrefix)));
    }
    sd_event_source* s = nullptr;
    int r = sd_event_add_inotify(loop, &s, dir.c_str(), IN_CREATE | IN_MOVED_TO, on_inotify, w.get());
    if (r < 0) return make_error(Errc::io, "cannot watch \"" + dir + "\": " + std::strerror(-r));
    sd_event_source_set_description(s, dir.c_str());
    w->sources_.push_back(s);
    w->watched_.push_back(dir);
  }
  return w;
}

Watcher::~Watcher() {
  for (auto* s : sources_) sd_event_source_disable_unref(s);
  if (timer_) sd_event_source_disable_unref(timer_);
}

int Watcher::on_inotify(sd_event_source* s, const struct inotify_event* ev, void* self_) {
  auto* self = static_cast<Watcher*>(self_);
  const char* dir = nullptr;
  sd_event_source_get_description(s, &dir);
  if (ev->len && dir) self->note(dir, ev->name);
  return 0;
}

void Watcher::note(const std::string& dir, const std::string& name) {
  std::string release;
  if (dir == host_path(opts_.host_root, opts_.boot_dir)) {
    if (name.rfind(kBootPrefix, 0) != 0) return;
    release = name.substr(std::strlen(kBootPrefix));
  } else {
    if (!is_dir(dir + "/" + name)) return;
    release = name;
  }
  if (release.empty() || known_.count(release)) return;
  pending_.insert(release);
  // Every event pushes the deadline: report once the burst has settled.
  uint64_t now = 0;
  sd_event_now(loop_, CLOCK_MONOTONIC, &now);
  if (!timer_) {
    sd_event_add_time(loop_, &timer_, CLOCK_MONOTONIC, now + opts_.debounce_usec, 100000, on_debounce, this);
  } else {
    sd_event_source_set_time(timer_, now + opts_.debounce_usec);
    sd_event_source_set_enabled(timer_, SD_EVENT_ONESHOT);
  }
}

int Watcher::on_debounce(sd_event_source*, uint64_t, void* self_) {
  auto* self = static_cast<Watcher*>(self_);
  auto pending = std::move(self->pending_);
  self->pending_.clear();
  for (const auto& release : pending) {
    if (!self->known_.insert(release).second) continue;
    self->cb_(NewKernel{release, native_btf_for(self->opts_.host_root, self->opts_.boot_dir, release)});
  }
  return 0;
}

}  // namespace btfd::upgrade
