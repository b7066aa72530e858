// SPDX-License-Identifier: GPL-2.0-or-later
// `btfctl check OBJECT... --from DIR [filters] [--html FILE] [-j N]`: which CO-RE
// relocations of the objects resolve on which kernels of a btfhub-archive
// source, per program; a summary, --json and a self-contained HTML matrix.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "cli/check_report.hpp"
#include "cli/check_run.hpp"
#include "cli/cli.hpp"
#include "hub/archive_reader.hpp"
#include "util/fd.hpp"

namespace btfctl {

int cmd_check(const Globals& g, std::vector<std::string>& args) {
  check::CheckInput in;
  std::string html, jobs, err;
  struct Opt {
    const char* flag;
    std::string* value;
  };
  const Opt opts[] = {{"--from", &in.source},       {"--distro", &in.filter.distro},
                      {"--distro-version", &in.filter.version}, {"--version", &in.filter.version},
                      {"--arch", &in.filter.arch},
                      {"--release-glob", &in.filter.release_glob}, {"--html", &html},
                      {"--jobs", &jobs},            {"-j", &jobs}};
  for (const Opt& o : opts) {
    if (!take_option(args, o.flag, o.value, &err) && !err.empty()) return usage_error(g, err);
  }
  for (const auto& a : args)
    if (a.size() > 1 && a[0] == '-') return usage_error(g, "check: unknown option \"" + a + "\"");
  if (in.source.empty()) return usage_error(g, "check needs --from MIRROR|DIR");
  if (args.empty()) return usage_error(g, "check needs at least one BPF object");
  unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  in.jobs = hw;
  if (!jobs.empty()) {
    char* end = nullptr;
    unsigned long n = std::strtoul(jobs.c_str(), &end, 10);
    if (!end || *end || n == 0 || n > 1024) return usage_error(g, "-j needs a number of jobs from 1 to 1024");
    in.jobs = static_cast<unsigned>(n);
  }
  in.max_kernel_bytes = btfd::hub::kMaxKernelBtfBytes;
  constexpr uint64_t kMaxObject = 256ull << 20;
  auto objects = check::load_objects(args, kMaxObject);
  if (!objects) return report_local_error(g, objects.error());
  bool progress = !g.quiet && !g.json && isatty(STDERR_FILENO);
  if (progress)
    in.progress = [](size_t done, size_t total) { std::fprintf(stderr, "\rchecking kernels: %zu/%zu", done, total); };
  auto rows = check::run_check(in, *objects);
  if (progress) std::fprintf(stderr, "\r\033[K");
  if (!rows) return report_local_error(g, rows.error());
  if (rows->empty())
    return report_local_error(g, btfd::make_error(btfd::Errc::not_found, "no kernel in \"" + in.source + "\" matches"));
  check::Report report{in.source, *objects, *rows, check::summarize(*objects, *rows)};
  if (!html.empty()) {
    std::string doc = check::to_html(report);
    auto st = btfd::write_file_atomic(html, std::span(reinterpret_cast<const uint8_t*>(doc.data()), doc.size()));
    if (!st) return report_local_error(g, st.error());
  }
  size_t errors = 0;
  bool all_load = true;
  for (const auto& row : *rows) errors += !row.error.empty();
  for (const auto& s : report.summary) all_load &= s.loads == s.checked;
  if (g.json) {
    print_json(g, check::to_json(report));
  } else {
    for (const auto& row : *rows)
      if (!row.error.empty()) std::fprintf(stderr, "btfctl: error: %s: %s\n", row.id.c_str(), row.error.c_str());
    for (const auto& line : check::summary_lines(report)) std::printf("%s\n", line.c_str());
    if (!g.quiet && errors)
      std::fprintf(stderr, "%zu of %zu kernels could not be read\n", errors, rows->size());
    if (!g.quiet && !html.empty()) std::fprintf(stderr, "wrote %s\n", html.c_str());
  }
  return all_load && errors == 0 ? kExitOk : kExitFailure;
}

}  // namespace btfctl
