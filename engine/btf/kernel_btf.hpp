// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// A kernel BTF parsed once and indexed by essential name, immutable afterwards,
// so the daemon can keep hot kernels in memory and minimize for many requests
// (from several threads) without parsing again.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "btf/btf_view.hpp"
#include "util/result.hpp"

namespace btfd::btf {

class KernelBtf {
 public:
  // Essential names a one-shot run will look up. Indexing only those keeps a
  // cold `btfctl minimize` from hashing and sorting every name in the kernel;
  // lookups of other names still work, by a scan.
  using NameFilter = std::vector<std::string>;

  // Takes the bytes over: the view reads them in place, so the kernel costs its
  // file size plus an index, not twice its size as a libbpf copy would.
  static Result<std::shared_ptr<const KernelBtf>> parse(std::vector<uint8_t> raw_btf,
                                                        const NameFilter* only = nullptr);
  // Maps a regular file (read-only, private) instead of copying it; reads it
  // when it cannot be mapped (sysfs on older kernels).
  static Result<std::shared_ptr<const KernelBtf>> load(int fd, size_t max_bytes, const NameFilter* only = nullptr);
  ~KernelBtf();
  KernelBtf(const KernelBtf&) = delete;
  KernelBtf& operator=(const KernelBtf&) = delete;

  const BtfView* btf() const { return &view_; }
  uint32_t type_count() const { return view_.type_cnt(); }
  size_t memory_bytes() const { return memory_bytes_; }
  // Ascending ids of named types whose essential name hashes like `essential`
  // (callers compare names; collisions are rare and harmless).
  std::vector<uint32_t> ids_with_essential_hash(std::string_view essential) const;

 private:
  KernelBtf() = default;
  static Result<std::shared_ptr<const KernelBtf>> index(std::shared_ptr<KernelBtf> k, std::span<const uint8_t> raw,
                                                        const NameFilter* only);
  std::vector<uint8_t> raw_;
  void* map_ = nullptr;
  size_t map_len_ = 0;
  BtfView view_;
  bool partial_ = false;
  std::vector<uint32_t> indexed_;  // with partial_: the name hashes the index covers, sorted
  // One entry per named type: essential-name hash << 32 | id, sorted. Packing
  // both in one word halves the index and makes building it a plain integer sort.
  std::vector<uint64_t> keys_;
  size_t memory_bytes_ = 0;
};

// 32-bit FNV-1a of a name.
uint32_t name_hash(std::string_view s);
// name_hash(essential_name(name)) in one forward pass over a NUL-terminated name.
uint32_t essential_name_hash(const char* name);

}  // namespace btfd::btf
