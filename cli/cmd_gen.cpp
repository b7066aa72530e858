// SPDX-License-Identifier: GPL-2.0-or-later
// `btfctl gen OBJECT... --from MIRROR|DIR [filters] -o OUT [--bundle] [-j N]`:
// btfgen for every kernel of an archive source in one run. Output: a
// btfhub-layout tree (OUT/DISTRO/VERSION/ARCH/RELEASE.btf, the merged
// minimized BTF for all objects, as btfhub's btfgen.sh writes it) or one
// bundle (docs/bundle.md).
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <thread>

#include "bundle/bundle_writer.hpp"
#include "cli/cli.hpp"
#include "cli/gen_run.hpp"
#include "hub/archive_reader.hpp"
#include "util/fd.hpp"

namespace btfctl {
namespace {

// A generated file: written under an unpredictable temp name created with
// O_EXCL (a symlink planted in a shared output directory is never followed)
// and renamed into place, so a reader never sees half of one.
btfd::Status write_plain(const std::string& path, std::span<const uint8_t> bytes) {
  return btfd::write_file_atomic(path, bytes, 0644);
}

// Names from a URL source's SHA256SUMS become paths under OUT: the bundle's
// spelling rules keep them from leaving it.
btfd::Status check_entry(const btfd::hub::ArchiveEntry& e) {
  BTFD_TRY_VOID(btfd::bundle::check_key_component(e.distro, "distro"));
  BTFD_TRY_VOID(btfd::bundle::check_key_component(e.version, "version"));
  BTFD_TRY_VOID(btfd::bundle::check_key_component(e.arch, "arch"));
  return btfd::bundle::check_key_component(e.release, "release");
}

// A tree records the objects it was made for (their digests and names), so
// that a later gen into it for other objects is refused rather than leaving a
// mix of kernels minimized for different programs.
constexpr const char* kManifest = ".btfctl-gen.json";

std::string object_set(const std::vector<gen::Object>& objects) {
  std::set<std::string> digests;
  for (const auto& o : objects) digests.insert(btfd::to_hex(o.digest));
  std::string key;
  for (const auto& d : digests) key += d + ",";
  return key;
}

// Nothing to say when OUT is new, empty or made for the same objects; with
// replace, a tree btfctl made for other objects is emptied first.
btfd::Status check_tree(const std::string& out, const std::vector<gen::Object>& objects, bool replace) {
  DIR* d = ::opendir(out.c_str());
  if (!d) return {};  // created below
  bool empty = true;
  while (struct dirent* e = ::readdir(d))
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) empty = false;
  ::closedir(d);
  if (empty) return {};
  auto text = btfd::read_text_file(out + "/" + kManifest, 1 << 20);
  if (!text)
    return btfd::make_error(btfd::Errc::invalid_argument,
                            "-o " + out + " is not empty and was not made by btfctl gen (no " + kManifest +
                                "): choose an empty or new directory");
  auto j = nlohmann::json::parse(*text, nullptr, false);
  std::string had, names;
  if (j.is_object() && j.contains("objects") && j["objects"].is_array()) {
    std::set<std::string> digests;
    for (const auto& o : j["objects"]) {
      if (!o.is_object()) continue;
      digests.insert(o.value("sha256", ""));
      names += (names.empty() ? "" : ", ") + o.value("name", "?");
    }
    for (const auto& dg : digests) had += dg + ",";
  }
  if (had == object_set(objects)) return {};
  if (!replace)
    return btfd::make_error(btfd::Errc::invalid_argument,
                            "-o " + out + " was made for other objects (" + names +
                                "): choose another directory, or pass --replace to start it anew");
  // Ours (it has the manifest): remove what it holds, then fill it anew.
  auto removed = ::nftw(out.c_str(), [](const char* path, const struct stat*, int type, struct FTW* f) {
    if (f->level == 0) return 0;
    return (type == FTW_DP ? ::rmdir(path) : ::unlink(path)) == 0 ? 0 : -1;
  }, 16, FTW_DEPTH | FTW_PHYS);
  if (removed != 0) return btfd::sys_error(errno, "-o " + out + ": cannot empty it for --replace");
  return {};
}

btfd::Status write_manifest(const std::string& out, const std::vector<gen::Object>& objects) {
  nlohmann::json objs = nlohmann::json::array();
  for (const auto& o : objects) {
    std::string name = o.path.substr(o.path.rfind('/') + 1);
    objs.push_back({{"name", name}, {"sha256", btfd::to_hex(o.digest)}});
  }
  std::string text = nlohmann::json{{"made_by", "btfctl gen"}, {"objects", objs}}.dump(
                         1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return btfd::write_file_atomic(out + "/" + kManifest,
                                 std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()), 0644);
}

// What the command line asks for.
struct GenRequest {
  gen::Options opts;
  std::string out;
  bool bundle = false, replace = false;
};

// The command line into req, or the exit code of a usage error.
std::optional<int> parse_request(const Globals& g, std::vector<std::string>& args, GenRequest* req) {
  gen::Options& opts = req->opts;
  std::string jobs, err;
  struct Opt {
    const char* flag;
    std::string* value;
  };
  const Opt flags[] = {{"--from", &opts.source},       {"--distro", &opts.filter.distro},
                       {"--distro-version", &opts.filter.version}, {"--version", &opts.filter.version},
                       {"--arch", &opts.filter.arch},
                       {"--release-glob", &opts.filter.release_glob}, {"-o", &req->out}, {"--output", &req->out},
                       {"--jobs", &jobs},              {"-j", &jobs}};
  for (const Opt& o : flags)
    if (!take_option(args, o.flag, o.value, &err) && !err.empty()) return usage_error(g, err);
  req->bundle = take_flag(args, "--bundle");
  req->replace = take_flag(args, "--replace");
  for (const auto& a : args)
    if (a.size() > 1 && a[0] == '-') return usage_error(g, "gen: unknown option \"" + a + "\"");
  if (opts.source.empty()) return usage_error(g, "gen needs --from MIRROR|DIR");
  if (req->out.empty()) return usage_error(g, "gen needs -o OUT (a directory, or the bundle file with --bundle)");
  if (args.empty()) return usage_error(g, "gen needs at least one BPF object");
  if (req->out == "-" && !req->bundle) return usage_error(g, "gen writes a tree to a directory: -o - needs --bundle");
  opts.jobs = std::max(1u, std::thread::hardware_concurrency());
  if (!jobs.empty()) {
    char* end = nullptr;
    unsigned long n = std::strtoul(jobs.c_str(), &end, 10);
    if (!end || *end || n == 0 || n > 1024) return usage_error(g, "-j needs a number of jobs from 1 to 1024");
    opts.jobs = static_cast<unsigned>(n);
  }
  opts.max_kernel_bytes = btfd::hub::kMaxKernelBtfBytes;
  return std::nullopt;
}

// A tree: OUT checked, made and its manifest written before any kernel, and
// each kernel's BTF stored as it is done. A bundle is written at the end
// (write_bundle); each kernel's names are checked as they come.
btfd::Status prepare_output(GenRequest& req, const std::vector<gen::Object>& objects) {
  if (req.bundle) {
    req.opts.store = [](gen::KernelOutcome& k) { return check_entry(k.entry); };
    return {};
  }
  const std::string& out = req.out;
  BTFD_TRY_VOID(check_tree(out, objects, req.replace));
  if (auto st = btfd::mkdir_p(out); !st) return std::move(st).error().wrap("-o " + out);
  if (auto st = write_manifest(out, objects); !st) return std::move(st).error().wrap("-o " + out);
  req.opts.store = [&out](gen::KernelOutcome& k) -> btfd::Status {
    BTFD_TRY_VOID(check_entry(k.entry));
    std::string dir = out + "/" + k.entry.distro + "/" + k.entry.version + "/" + k.entry.arch;
    BTFD_TRY_VOID(btfd::mkdir_p(dir));
    return write_plain(dir + "/" + k.entry.release + ".btf", k.btf);
  };
  return {};
}

// Every kernel of the source minimized, with a progress line on a terminal.
btfd::Result<std::vector<gen::KernelOutcome>> run_with_progress(const Globals& g, gen::Options& opts,
                                                                const std::vector<gen::Object>& objects) {
  bool progress = !g.quiet && !g.json && ::isatty(STDERR_FILENO);
  if (progress)
    opts.on_done = [](const gen::KernelOutcome& k, size_t done, size_t total) {
      std::fprintf(stderr, "\r\033[K[%zu/%zu] %s%s", done, total, gen::kernel_id(k.entry).c_str(),
                   k.error.empty() ? "" : " (failed)");
    };
  auto outcomes = gen::run(opts, objects);
  if (progress) std::fprintf(stderr, "\r\033[K");
  if (!outcomes) return std::move(outcomes).error();
  if (outcomes->empty())
    return btfd::make_error(btfd::Errc::not_found, "no kernel in \"" + opts.source + "\" matches");
  return outcomes;
}

struct GenSummary {
  size_t generated = 0;
  uint64_t bytes = 0;     // of the generated BTFs
  uint64_t out_size = 0;  // of what was written: the BTFs, or the bundle
  std::set<btfd::Digest> distinct;
  nlohmann::json failed = nlohmann::json::array();  // {kernel, error}
};

GenSummary summarize(const std::vector<gen::KernelOutcome>& outcomes) {
  GenSummary s;
  for (const auto& k : outcomes) {
    if (!k.error.empty()) {
      s.failed.push_back(nlohmann::json{{"kernel", gen::kernel_id(k.entry)}, {"error", k.error}});
      continue;
    }
    ++s.generated;
    s.bytes += k.btf.size();
    s.distinct.insert(btfd::sha256(k.btf));
  }
  s.out_size = s.bytes;
  return s;
}

// The kernels generated, as one bundle in OUT (or on stdout for "-"); its size.
btfd::Result<uint64_t> write_bundle(const std::string& out, const std::vector<gen::Object>& objects,
                                    std::vector<gen::KernelOutcome>& outcomes) {
  std::vector<btfd::Digest> digests;
  for (const auto& o : objects) digests.push_back(o.digest);
  btfd::bundle::BundleBuilder builder(digests);
  for (auto& k : outcomes) {
    if (!k.error.empty()) continue;
    BTFD_TRY_VOID(builder.add({k.entry.distro, k.entry.version, k.entry.arch, k.entry.release}, std::move(k.btf)));
  }
  BTFD_TRY(auto file, builder.finish());
  auto st = out == "-" ? btfd::write_all(STDOUT_FILENO, file) : btfd::write_file_atomic(out, file);
  if (!st) return std::move(st).error().wrap("-o " + out);
  return static_cast<uint64_t>(file.size());
}

void report(const Globals& g, const GenRequest& req, const std::vector<gen::Object>& objects, size_t kernels,
            const GenSummary& s) {
  if (g.json) {
    nlohmann::json objs = nlohmann::json::array();
    for (const auto& o : objects) objs.push_back(nlohmann::json{{"path", o.path}, {"sha256", btfd::to_hex(o.digest)}});
    print_json(g, {{"output", req.out},
                   {"format", req.bundle ? "bundle" : "tree"},
                   {"kernels", kernels},
                   {"generated", s.generated},
                   {"distinct", s.distinct.size()},
                   {"btf_bytes", s.bytes},
                   {"output_bytes", s.out_size},
                   {"objects", objs},
                   {"failed", s.failed}});
    return;
  }
  for (const auto& f : s.failed)
    std::fprintf(stderr, "btfctl: error: %s: %s\n", f["kernel"].get<std::string>().c_str(),
                 f["error"].get<std::string>().c_str());
  if (!g.quiet)
    std::fprintf(stderr, "%s: %zu of %zu kernels (%zu distinct BTFs), %llu bytes%s\n", req.out.c_str(), s.generated,
                 kernels, s.distinct.size(), static_cast<unsigned long long>(s.out_size), req.bundle ? "" : " in files");
  if (!s.failed.empty()) std::fprintf(stderr, "%zu kernels failed\n", s.failed.size());
}

}  // namespace

int cmd_gen(const Globals& g, std::vector<std::string>& args) {
  GenRequest req;
  if (auto usage_exit = parse_request(g, args, &req)) return *usage_exit;
  constexpr uint64_t kMaxObject = 256ull << 20;
  auto objects = gen::load_objects(args, kMaxObject);
  if (!objects) return report_local_error(g, objects.error());
  if (auto st = prepare_output(req, *objects); !st) return report_local_error(g, st.error());
  auto outcomes = run_with_progress(g, req.opts, *objects);
  if (!outcomes) return report_local_error(g, outcomes.error());
  GenSummary summary = summarize(*outcomes);
  if (req.bundle) {
    auto size = write_bundle(req.out, *objects, *outcomes);
    if (!size) return report_local_error(g, size.error());
    summary.out_size = *size;
  }
  report(g, req, *objects, outcomes->size(), summary);
  return summary.failed.empty() ? kExitOk : kExitFailure;
}

}  // namespace btfctl
