// SPDX-License-Identifier: GPL-2.0-or-later
// `btfctl minimize KERNEL_BTF OBJECT... -o OUT [--report] [--compat LEVEL]`:
// the local `bpftool gen min_core_btf` job, no daemon involved; --compat
// rewrites the output for an older reader (GetBtf's rewriter), and with no
// object rewrites the whole kernel BTF (for packagers and old tools).
#include <fcntl.h>

#include <cstdio>

#include "btf/btf_compat.hpp"
#include "btf/minimizer.hpp"
#include "cli/cli.hpp"
#include "util/fd.hpp"
#include "util/huge_heap.hpp"
#include "util/mapped_file.hpp"

namespace btfctl {

namespace {
void add_compat_json(nlohmann::json& j, const btfd::btf::CompatLevel& level, const btfd::btf::CompatStats& st) {
  j["compat"] = level.name;
  j["types_rewritten"] = st.types_rewritten;
  j["enumerators_dropped"] = st.enumerators_dropped;
}

// --compat with no object: the whole kernel BTF, rewritten.
int rewrite_whole(const Globals& g, const std::string& kernel, const btfd::btf::CompatLevel& level,
                  const std::string& out, size_t max_kernel) {
  auto bytes = btfd::read_file(kernel, max_kernel);
  if (!bytes) return report_error(g, bytes.error());
  btfd::btf::CompatStats st;
  auto rewritten = btfd::btf::rewrite_for_level(*bytes, level, &st);
  if (!rewritten) return report_error(g, std::move(rewritten).error().wrap("\"" + kernel + "\""));
  if (!out.empty()) {
    if (auto w = write_output(out, *rewritten); !w) return report_error(g, w.error());
  }
  if (g.quiet) return kExitOk;
  if (g.json) {
    nlohmann::json j = {{"output", out.empty() ? nlohmann::json() : nlohmann::json(out)}, {"size", rewritten->size()}};
    add_compat_json(j, level, st);
    print_json(g, j);
    return kExitOk;
  }
  if (!out.empty() && out != "-")
    std::fprintf(stderr, "wrote %s: %zu bytes, %u types rewritten for %s, %u enumerators dropped\n", out.c_str(),
                 rewritten->size(), st.types_rewritten, level.name.c_str(), st.enumerators_dropped);
  return kExitOk;
}
}  // namespace

int cmd_minimize(const Globals& g, std::vector<std::string>& args) {
  std::string out, err;
  if (!take_option(args, "-o", &out, &err) && !take_option(args, "--output", &out, &err) && !err.empty())
    return usage_error(g, err);
  bool report = take_flag(args, "--report");
  std::string compat_name;
  if (!take_option(args, "--compat", &compat_name, &err) && !err.empty()) return usage_error(g, err);
  std::optional<btfd::btf::CompatLevel> compat;
  if (!compat_name.empty()) {
    auto level = btfd::btf::parse_compat_level(compat_name);
    if (!level) return usage_error(g, "--compat: " + level.error().message);
    compat = std::move(*level);
  }
  if (args.empty() || (args.size() < 2 && !compat))
    return usage_error(g, "minimize needs a kernel BTF and at least one object (or --compat)");
  if (args.size() < 2 && report) return usage_error(g, "--report needs an object");
  if (out.empty() && !report) return usage_error(g, "minimize needs -o OUT (or --report)");
  if (out == "-" && (g.json || report)) return usage_error(g, "-o - writes the BTF to standard output: no --json or --report with it");
  constexpr size_t kMaxKernel = 1ull << 30, kMaxObject = 256ull << 20;
  // One run, then exit: the per-type tables go on huge pages (a fresh 4 KiB
  // page each was ~4 ms of a 26 ms run on a 4.6 MB kernel; util/huge_heap.hpp).
  btfd::prefer_huge_pages_in_heap(24u << 20);
  if (args.size() == 1) return rewrite_whole(g, args[0], *compat, out, kMaxKernel);
  std::vector<btfd::MappedFile> storage;
  std::vector<btfd::btf::ObjectInput> objects;
  for (size_t i = 1; i < args.size(); ++i) {
    auto file = btfd::MappedFile::open(args[i], kMaxObject);
    if (!file) return report_error(g, file.error());
    storage.push_back(std::move(file).value());
  }
  for (size_t i = 1; i < args.size(); ++i) objects.push_back({args[i], storage[i - 1].bytes()});
  // One run: index only the names these objects look up.
  // The user's own objects on the user's machine: no daemon budget.
  const auto budget = btfd::btf::MinimizeBudget::local();
  auto names = btfd::btf::lookup_names(objects, budget);
  if (!names) return report_error(g, names.error());
  auto kernel_fd = btfd::open_file(args[0], O_RDONLY);
  if (!kernel_fd) return report_error(g, kernel_fd.error());
  auto kernel = btfd::btf::KernelBtf::load(kernel_fd->get(), kMaxKernel, &*names);
  if (!kernel) return report_error(g, std::move(kernel).error().wrap("\"" + args[0] + "\""));
  btfd::btf::MinimizeOptions opts;
  opts.budget = budget;
  auto result = btfd::btf::minimize(**kernel, objects, opts);
  if (!result) return report_error(g, result.error());
  btfd::btf::CompatStats stats;
  if (compat) {
    auto rewritten = btfd::btf::rewrite_for_level(result->btf, *compat, &stats);
    if (!rewritten) return report_error(g, rewritten.error());
    result->btf = std::move(rewritten).value();
  }
  if (!out.empty()) {
    if (auto st = write_output(out, result->btf); !st) return report_error(g, st.error());
  }
  if (g.quiet) return kExitOk;
  if (g.json) {
    nlohmann::json j = {{"output", out.empty() ? nlohmann::json() : nlohmann::json(out)},
                        {"size", result->btf.size()},
                        {"types", result->types}};
    if (compat) add_compat_json(j, *compat, stats);
    if (report) j["relocations"] = btfd::btf::report_to_json(result->relocs);
    print_json(g, j);
    return kExitOk;
  }
  if (report) {
    for (const auto& r : result->relocs) {
      std::printf("%s %s relo #%u %-14s %s -> %s (%u/%u candidates)\n", r.object.c_str(), r.section.c_str(), r.index,
                  r.kind.c_str(), r.local_spec.c_str(),
                  r.skipped ? "local" : r.target_spec.empty() ? "no match" : r.target_spec.c_str(), r.matches,
                  r.candidates);
    }
  }
  if (!out.empty() && out != "-")
    std::fprintf(stderr, "wrote %s: %zu bytes, %u types\n", out.c_str(), result->btf.size(), result->types);
  return kExitOk;
}

}  // namespace btfctl
