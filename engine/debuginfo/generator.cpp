// SPDX-License-Identifier: GPL-2.0-or-later
#include "debuginfo/generator.hpp"

#include <sys/stat.h>

#include "debuginfo/build_id.hpp"
#include "debuginfo/debug_files.hpp"
#include "debuginfo/split_btf.hpp"
#include "hub/btf_check.hpp"

namespace btfd::debuginfo {
namespace {

// What a path looks like on the host (the host root taken off), for messages.
std::string on_host(const std::string& host_root, const std::string& path) {
  if (host_root.empty() || host_root == "/") return path;
  std::string root = host_root;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return path.rfind(root, 0) == 0 ? path.substr(root.size()) : path;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// The failure memo's key: a file replaced (new package) is tried afresh.
std::string file_key(const std::string& path, const std::string& base_path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return path;
  return path + "\x1f" + std::to_string(st.st_size) + "\x1f" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec) + "\x1f" + base_path;
}

}  // namespace

std::string Generated::origin() const {
  std::string o = "pahole " + pahole + " from " + from;
  if (!build_id.empty()) o += " (build-id " + build_id + ")";
  return o;
}

Generator::Generator(GeneratorOptions o) : o_(std::move(o)) {}

GeneratorStats Generator::stats() const {
  std::lock_guard lock(mu_);
  GeneratorStats s = stats_;
  s.pahole_version = version_;
  if (!s.running.empty())
    s.running += " (for " +
                 std::to_string(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                                 running_since_).count()) + " s)";
  return s;
}

Result<std::string> Generator::version() {
  {
    std::lock_guard lock(mu_);
    if (!version_.empty()) return version_;
  }
  BTFD_TRY(std::string v, pahole_version(o_.pahole));
  std::lock_guard lock(mu_);
  version_ = v;
  return v;
}

Result<Generated> Generator::generate(const std::string& path, const std::string& from, const std::string& what,
                                      const std::string& base_path, std::span<const uint8_t> base) {
  std::unique_lock one(one_, std::defer_lock);
  if (!one.try_lock_for(o_.queue_wait)) {
    std::lock_guard lock(mu_);
    return make_error(Errc::busy, "another BTF generation is running (" + stats_.running + "); " + what +
                                      " waited " + std::to_string(o_.queue_wait.count() / 1000) + " s for it");
  }
  const std::string key = file_key(path, base_path);
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    auto it = failed_.find(key);
    if (it != failed_.end() && it->second.second > now)
      return make_error(Errc::corrupt, it->second.first + " (remembered: tried again in " +
                                           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                              it->second.second - now).count()) + " s)");
    if (it != failed_.end()) failed_.erase(it);
    stats_.running = what + " from " + from;
    running_since_ = now;
  }
  auto result = [&]() -> Result<Generated> {
    Generated g;
    g.from = from;
    BTFD_TRY(g.pahole, version());
    BTFD_TRY(auto id, elf_build_id(path));
    if (id) g.build_id = *id;
    auto bytes = run_pahole(o_.pahole, path, base_path);
    if (!bytes) return std::move(bytes).error().wrap(what);
    g.btf = std::move(bytes).value();
    if (base_path.empty()) {
      if (auto st = hub::check_kernel_btf(g.btf, o_.pahole.max_output); !st)
        return std::move(st).error().wrap("pahole's BTF for " + what + " from " + from);
    } else if (auto st = check_split_btf(base, g.btf, o_.pahole.max_output); !st) {
      return std::move(st).error().wrap("pahole's BTF for " + what + " from " + from);
    }
    return g;
  }();
  std::lock_guard lock(mu_);
  stats_.running.clear();
  if (result) {
    ++stats_.generated;
    stats_.last = what + ": " + result->origin();
    return result;
  }
  ++stats_.failures;
  stats_.last_failure = result.error().message;
  // A cancelled run (btfd stopping) says nothing about the file.
  if (result.error().code != Errc::cancelled && result.error().code != Errc::busy) {
    if (failed_.size() >= 64) failed_.erase(failed_.begin());
    failed_[key] = {result.error().message, now + o_.retry_after};
  }
  return result;
}

Result<Generated> Generator::kernel_from_installed(std::string_view release,
                                                   const std::optional<std::string>& expected_build_id) {
  if (!o_.enabled) return make_error(Errc::not_found, "installed debug info is not used ([Debuginfo] Enable=no)");
  BTFD_TRY(Lookup l, find_kernel_debug(o_.host_root, release));
  if (!l.path)
    return make_error(Errc::not_found, "no debug info for " + std::string(release) + ": looked in " + join(l.looked_in));
  std::string from = on_host(o_.host_root, *l.path);
  if (expected_build_id) {
    BTFD_TRY(auto id, elf_build_id(*l.path));
    if (!id || *id != *expected_build_id)
      return make_error(Errc::corrupt, "debug file " + from + " has build-id " + (id ? *id : std::string("(none)")) +
                                           ", the running kernel " + *expected_build_id + ": not this kernel's");
  }
  return generate(*l.path, from, "kernel " + std::string(release), "", {});
}

Result<Generated> Generator::kernel_from_file(const std::string& path, const std::string& from,
                                              const std::string& expected_build_id) {
  BTFD_TRY(auto id, elf_build_id(path));
  if (!id || *id != expected_build_id)
    return make_error(Errc::corrupt, "debug file from " + from + " has build-id " + (id ? *id : std::string("(none)")) +
                                         ", not the " + expected_build_id + " it was asked for");
  return generate(path, from, "kernel with build-id " + expected_build_id, "", {});
}

Result<Generated> Generator::module_from_installed(std::string_view release, std::string_view module,
                                                   const std::string& base_btf_path, std::span<const uint8_t> base) {
  if (!o_.enabled) return make_error(Errc::not_found, "installed debug info is not used ([Debuginfo] Enable=no)");
  BTFD_TRY(Lookup l, find_module_debug(o_.host_root, release, module));
  if (!l.path)
    return make_error(Errc::not_found, "no debug info for module " + std::string(module) + " of " + std::string(release) +
                                           ": looked in " + join(l.looked_in));
  return generate(*l.path, on_host(o_.host_root, *l.path), "module " + std::string(module) + " of " + std::string(release),
                  base_btf_path, base);
}

}  // namespace btfd::debuginfo
