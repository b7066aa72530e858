// SPDX-License-Identifier: GPL-2.0-or-later
// `btfctl mirror sync SOURCE DEST [filters]` and `btfctl mirror export DEST`:
// build a site mirror (a btfhub-archive layout directory with SHA256SUMS) that
// any web server, bucket or file:// URL can serve to a fleet's btfd. Every
// archive is checked as btfd checks a download before it is put in place.
#include <unistd.h>

#include <cstdio>

#include "cli/daemon_call.hpp"
#include "cli/mirror_tree.hpp"
#include "hub/archive_index.hpp"
#include "hub/archive_reader.hpp"
#include "util/sha256.hpp"
#include "proto/interface.hpp"

namespace btfctl {
namespace {

using btfd::hub::ArchiveEntry;

// One line on stderr, redrawn, when it is a terminal (and not --json or --quiet).
class SyncProgress {
 public:
  explicit SyncProgress(const Globals& g) : on_(!g.quiet && !g.json && ::isatty(STDERR_FILENO)) {}
  void show(size_t i, size_t n, const std::string& what) const {
    if (on_) std::fprintf(stderr, "\r\033[K[%zu/%zu] %s", i, n, what.c_str());
  }
  void done() const {
    if (on_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  bool on_;
};

struct Summary {
  size_t kernels = 0, unchanged = 0;
  uint64_t bytes = 0;
  nlohmann::json copied = nlohmann::json::array(), refused = nlohmann::json::array();
};

int finish(const Globals& g, const std::string& verb, const std::string& source, const std::string& dest,
           Summary& s, btfd::Status saved) {
  if (!saved) return report_error(g, saved.error());
  if (g.json) {
    nlohmann::json j = {{"source", source}, {"dest", dest}, {"kernels", s.kernels}, {"copied", s.copied},
                        {"unchanged", s.unchanged}, {"refused", s.refused}, {"bytes", s.bytes}};
    print_json(g, j);
  } else if (!g.quiet) {
    std::printf("%s %zu kernel(s) into %s: %zu copied (%s), %zu unchanged, %zu refused\n", verb.c_str(), s.kernels,
                dest.c_str(), s.copied.size(), human_size(s.bytes).c_str(), s.unchanged, s.refused.size());
  }
  for (const auto& r : s.refused)
    if (!g.json) std::fprintf(stderr, "btfctl: refused %s: %s\n", r["path"].get<std::string>().c_str(),
                              r["error"].get<std::string>().c_str());
  return s.refused.empty() ? kExitOk : kExitFailure;
}

// The checks btfd applies to a download, on the file about to be put in place.
std::function<btfd::Status(int)> check_as_btfd(const ArchiveEntry& e) {
  return [e](int fd) -> btfd::Status {
    BTFD_TRY_VOID(btfd::hub::archive_btf(fd, e, btfd::hub::kMaxKernelBtfBytes));
    return {};
  };
}

int mirror_sync(const Globals& g, std::vector<std::string>& args) {
  btfd::hub::ArchiveFilter filter;
  std::string err;
  const std::pair<const char*, std::string*> opts[] = {{"--distro", &filter.distro},
                                                       {"--distro-version", &filter.version},
                                                       {"--version", &filter.version},
                                                       {"--arch", &filter.arch},
                                                       {"--release-glob", &filter.release_glob}};
  for (auto [flag, value] : opts)
    if (!take_option(args, flag, value, &err) && !err.empty()) return usage_error(g, err);
  for (const auto& a : args)
    if (a.size() > 1 && a[0] == '-') return usage_error(g, "mirror sync: unknown option \"" + a + "\"");
  if (args.size() != 2) return usage_error(g, "mirror sync needs SOURCE (a URL or a directory) and DEST");
  const std::string source = args[0], dest = args[1];
  auto entries = btfd::hub::list_archive(source, filter);
  if (!entries) return report_local_error(g, entries.error());
  // As check and gen: a filter that matches nothing is a failure, not a sync.
  if (entries->empty())
    return report_local_error(g, btfd::make_error(btfd::Errc::not_found, "no kernel in \"" + source + "\" matches"));
  auto tree = mirror::Tree::open(dest);
  if (!tree) return report_local_error(g, tree.error());
  SyncProgress progress(g);
  Summary s;
  s.kernels = entries->size();
  for (size_t i = 0; i < entries->size(); ++i) {
    ArchiveEntry& e = (*entries)[i];
    progress.show(i + 1, entries->size(), e.rel_path);
    auto refuse = [&](const btfd::Error& why) { s.refused.push_back({{"path", e.rel_path}, {"error", why.message}}); };
    std::string have = (*tree)->digest_of(e.rel_path);
    btfd::UniqueFd archive;
    if (e.sha256.empty()) {
      // A directory without SHA256SUMS: its file is read locally to compare.
      auto fd = btfd::hub::fetch_archive(source, e, btfd::hub::kMaxArchiveBytes);
      if (!fd) { refuse(fd.error()); continue; }
      auto d = btfd::sha256_fd(fd->get());
      if (!d) { refuse(d.error()); continue; }
      e.sha256 = btfd::to_hex(*d);
      archive = std::move(*fd);
    }
    if (!have.empty() && have == e.sha256) {
      ++s.unchanged;
      continue;
    }
    if (!archive) {
      auto fd = btfd::hub::fetch_archive(source, e, btfd::hub::kMaxArchiveBytes);  // checked against SHA256SUMS
      if (!fd) { refuse(fd.error()); continue; }
      archive = std::move(*fd);
    }
    // archive is a private copy (fetch_archive), so the digest is that of the
    // bytes copied; put compares it again before anything is renamed into DEST.
    auto put = (*tree)->put(
        e.rel_path, [&](int out) { return mirror::copy_fd(archive.get(), out); }, check_as_btfd(e), e.sha256);
    if (!put) { refuse(put.error()); continue; }
    s.copied.push_back(e.rel_path);
    s.bytes += put->size;
  }
  progress.done();
  if (auto aliases = btfd::hub::list_aliases(source)) {
    for (const auto& a : *aliases)
      if (auto st = (*tree)->link(a.link, a.target); !st) return report_local_error(g, st.error());
  }
  return finish(g, "synced", source, (*tree)->root(), s, (*tree)->save_sums());
}

int mirror_export(const Globals& g, std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a.size() > 1 && a[0] == '-') return usage_error(g, "mirror export: unknown option \"" + a + "\"");
  if (args.size() != 1) return usage_error(g, "mirror export needs DEST");
  const std::string dest = args[0];
  auto list = call_daemon(g, btfd::proto::method::kListKernels, nlohmann::json::object());
  if (!list) return report_error(g, list.error());
  const auto& kernels = list->json["parameters"]["kernels"];
  if (!kernels.is_array()) return report_error(g, btfd::make_error(btfd::Errc::protocol, "ListKernels sent no kernels"));
  auto tree = mirror::Tree::open(dest);
  if (!tree) return report_error(g, tree.error());
  SyncProgress progress(g);
  Summary s;
  s.kernels = kernels.size();
  size_t i = 0;
  for (const auto& k : kernels) {
    ++i;
    const auto& id = k.value("kernel", nlohmann::json::object());
    std::string rel = id.value("distro", "") + "/" + id.value("version", "") + "/" + id.value("arch", "") + "/" +
                      id.value("release", "") + ".btf.tar.xz";
    auto entry = btfd::hub::archive_entry_from_path(rel);
    if (!entry) {
      s.refused.push_back({{"path", rel}, {"error", "not a btfhub-archive path"}});
      continue;
    }
    progress.show(i, kernels.size(), rel);
    auto refuse = [&](const btfd::Error& why) { s.refused.push_back({{"path", rel}, {"error", why.message}}); };
    // The daemon opens its cache file and passes the descriptor; btfctl writes DEST itself.
    auto reply = call_daemon(g, btfd::proto::method::kGetBtf, {{"kernel", id}});
    if (!reply) { refuse(reply.error()); continue; }
    if (reply->fds.empty()) { refuse(btfd::make_error(btfd::Errc::protocol, "btfd sent no BTF descriptor")); continue; }
    auto btf = btfd::pread_all(reply->fds[0].get(), btfd::hub::kMaxKernelBtfBytes);
    if (!btf) { refuse(btf.error()); continue; }
    if (btfd::sha256_hex(*btf) != k.value("sha256", "")) {
      refuse(btfd::make_error(btfd::Errc::corrupt, "the BTF btfd sent does not match its listed sha256"));
      continue;
    }
    auto put = (*tree)->put(
        rel, [&](int out) { return mirror::pack_btf_archive(out, entry->release, *btf); }, check_as_btfd(*entry));
    if (!put) { refuse(put.error()); continue; }
    if (!put->changed) {
      ++s.unchanged;
      continue;
    }
    s.copied.push_back(rel);
    s.bytes += put->size;
  }
  progress.done();
  return finish(g, "exported", "btfd cache", (*tree)->root(), s, (*tree)->save_sums());
}

}  // namespace

int cmd_mirror(const Globals& g, std::vector<std::string>& args) {
  static const std::pair<const char*, int (*)(const Globals&, std::vector<std::string>&)> subcommands[] = {
      {"sync", mirror_sync}, {"export", mirror_export}};
  if (args.empty()) return usage_error(g, "mirror needs a subcommand: sync or export");
  std::string sub = args[0];
  args.erase(args.begin());
  for (auto [name, run] : subcommands)
    if (sub == name) return run(g, args);
  return usage_error(g, "mirror: unknown subcommand \"" + sub + "\" (sync or export)");
}

}  // namespace btfctl
