// SPDX-License-Identifier: GPL-2.0-or-later
#include "cli/gen_run.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <thread>

#include "btf/kernel_btf.hpp"
#include "btf/minimizer.hpp"
#include "hub/archive_reader.hpp"
#include "util/fd.hpp"

namespace btfctl::gen {

using btfd::Result;

std::string kernel_id(const btfd::hub::ArchiveEntry& e) {
  return e.distro + "/" + e.version + "/" + e.arch + "/" + e.release;
}

Result<std::vector<Object>> load_objects(const std::vector<std::string>& paths, uint64_t max_bytes) {
  std::vector<Object> out;
  for (const auto& p : paths) {
    BTFD_TRY(auto bytes, btfd::read_file(p, max_bytes));
    Object o{p, std::move(bytes), {}};
    o.digest = btfd::sha256(o.bytes);
    out.push_back(std::move(o));
  }
  return out;
}

Result<std::vector<KernelOutcome>> run(const Options& opts, const std::vector<Object>& objects) {
  std::vector<btfd::btf::ObjectInput> inputs;
  for (const auto& o : objects) inputs.push_back({o.path, o.bytes});
  // The names all objects look up, found once: each kernel indexes only these.
  // The user's own objects on the user's machine: no daemon budget.
  BTFD_TRY(auto names, btfd::btf::lookup_names(inputs, btfd::btf::MinimizeBudget::local()));
  BTFD_TRY(auto entries, btfd::hub::list_archive(opts.source, opts.filter));
  std::vector<KernelOutcome> outcomes(entries.size());
  // Largest archives first: the run ends when its slowest kernel does, so the
  // big ones must not start last (sizes are 0, so the order is kept, for URLs).
  std::vector<size_t> order(entries.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return entries[a].size > entries[b].size; });
  std::atomic<size_t> next{0};
  std::mutex mu;
  size_t done = 0;
  auto work = [&] {
    for (size_t n = next++; n < entries.size(); n = next++) {
      size_t i = order[n];
      KernelOutcome& out = outcomes[i];
      out.entry = entries[i];
      auto result = [&]() -> Result<std::vector<uint8_t>> {
        // Unpacked (streamed) into an unnamed file that KernelBtf maps: the
        // kernel is written once, validated once and never copied, where
        // read_archive_btf() would copy it twice and validate it twice.
        BTFD_TRY(btfd::UniqueFd archive, btfd::hub::fetch_archive(opts.source, out.entry, btfd::hub::kMaxArchiveBytes));
        btfd::UniqueFd raw(::memfd_create("btfd-gen-kernel", MFD_CLOEXEC));
        if (!raw) return btfd::sys_error(errno, "memfd_create");
        btfd::hub::ExtractLimits limits;
        limits.max_output_bytes = opts.max_kernel_bytes;
        auto size = btfd::hub::extract_btf(archive.get(), out.entry.release, raw.get(), limits);
        if (!size) return std::move(size).error().wrap("\"" + out.entry.rel_path + "\"");
        archive.reset();
        auto kernel = btfd::btf::KernelBtf::load(raw.get(), opts.max_kernel_bytes, &names);
        if (!kernel) return std::move(kernel).error().wrap("\"" + out.entry.rel_path + "\"");
        btfd::btf::MinimizeOptions mopts;
        mopts.budget = btfd::btf::MinimizeBudget::local();
        BTFD_TRY(auto min, btfd::btf::minimize(**kernel, inputs, mopts));
        return std::move(min.btf);
      }();
      if (result) out.btf = std::move(result).value();
      else out.error = result.error().message;
      if (result && opts.store) {
        if (auto st = opts.store(out); !st) out.error = st.error().message;
      }
      std::lock_guard lock(mu);
      ++done;
      if (opts.on_done) opts.on_done(out, done, entries.size());
    }
  };
  unsigned n = std::max(1u, std::min<unsigned>(opts.jobs, static_cast<unsigned>(std::max<size_t>(entries.size(), 1))));
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < n; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  return outcomes;
}

}  // namespace btfctl::gen
