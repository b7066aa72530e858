// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// `btfctl gen`'s engine: every kernel of an archive source minimized for all
// the objects at once. Each kernel is unpacked (streamed) and parsed once, with
// an index of only the names the objects look up, and minimized for all
// objects together (btfgen's merged output); kernels run in parallel on N
// threads. A kernel that fails is reported and the others go on.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hub/archive_index.hpp"
#include "util/result.hpp"
#include "util/sha256.hpp"

namespace btfctl::gen {

struct Object {
  std::string path;
  std::vector<uint8_t> bytes;
  btfd::Digest digest{};
};

struct KernelOutcome {
  btfd::hub::ArchiveEntry entry;
  std::vector<uint8_t> btf;  // the minimized BTF (empty on error)
  std::string error;         // non-empty: this kernel failed
};

struct Options {
  std::string source;
  btfd::hub::ArchiveFilter filter;
  unsigned jobs = 1;
  uint64_t max_kernel_bytes = 0;
  // Called from the worker threads for each kernel minimized, outside any
  // lock (e.g. to write its file); it may move the BTF out. An error fails
  // that kernel.
  std::function<btfd::Status(KernelOutcome&)> store;
  // Called under a lock as each kernel finishes (progress).
  std::function<void(const KernelOutcome&, size_t done, size_t total)> on_done;
};

btfd::Result<std::vector<Object>> load_objects(const std::vector<std::string>& paths, uint64_t max_bytes);
// Outcomes in the source's order (sorted by archive path). Fails only when the
// source cannot be listed or the objects are not CO-RE objects.
btfd::Result<std::vector<KernelOutcome>> run(const Options& opts, const std::vector<Object>& objects);
// "ubuntu/20.04/x86_64/5.4.0-26-generic"
std::string kernel_id(const btfd::hub::ArchiveEntry& e);

}  // namespace btfctl::gen
