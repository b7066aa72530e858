// SPDX-License-Identifier: GPL-2.0-or-later
// `btfctl minimize KERNEL_BTF OBJECT... -o OUT [--report]`: the local
// `bpftool gen min_core_btf` job, no daemon involved.
#include <fcntl.h>

#include <cstdio>

#include "btf/minimizer.hpp"
#include "cli/cli.hpp"
#include "util/fd.hpp"

namespace btfctl {

int cmd_minimize(const Globals& g, std::vector<std::string>& args) {
  std::string out, err;
  if (!take_option(args, "-o", &out, &err) && !take_option(args, "--output", &out, &err) && !err.empty())
    return usage_error(g, err);
  bool report = take_flag(args, "--report");
  if (args.size() < 2) return usage_error(g, "minimize needs a kernel BTF and at least one object");
  if (out.empty() && !report) return usage_error(g, "minimize needs -o OUT (or --report)");
  if (out == "-" && (g.json || report)) return usage_error(g, "-o - writes the BTF to standard output: no --json or --report with it");
  constexpr size_t kMaxKernel = 1ull << 30, kMaxObject = 256ull << 20;
  std::vector<std::vector<uint8_t>> storage;
  std::vector<btfd::btf::ObjectInput> objects;
  for (size_t i = 1; i < args.size(); ++i) {
    auto bytes = btfd::read_file(args[i], kMaxObject);
    if (!bytes) return report_error(g, bytes.error());
    storage.push_back(std::move(bytes).value());
  }
  for (size_t i = 1; i < args.size(); ++i) objects.push_back({args[i], storage[i - 1]});
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
  if (!out.empty()) {
    if (auto st = write_output(out, result->btf); !st) return report_error(g, st.error());
  }
  if (g.quiet) return kExitOk;
  if (g.json) {
    nlohmann::json j = {{"output", out.empty() ? nlohmann::json() : nlohmann::json(out)},
                        {"size", result->btf.size()},
                        {"types", result->types}};
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
