// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Writes BTF bundles (docs/bundle.md): minimized BTFs for many kernels in one
// file, identical content stored once, an index by kernel identity, the digests
// of the objects it was made for, and SHA-256 checksums of the header, the
// index and every blob. The reader is common/bundle (shared with libbtfd).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bundle/bundle_reader.hpp"
#include "util/result.hpp"
#include "util/sha256.hpp"

namespace btfd::bundle {

struct KernelName {
  std::string distro, version, arch, release;
};

class BundleBuilder {
 public:
  // The objects the bundle serves (their digests; order and repeats do not matter).
  explicit BundleBuilder(std::vector<Digest> objects);
  // Adds one kernel's minimized BTF; content already held by another kernel
  // is not stored again. A key given twice or spelled badly is refused.
  Status add(const KernelName& kernel, std::vector<uint8_t> btf);
  size_t kernel_count() const { return kernels_.size(); }
  size_t blob_count() const { return blobs_.size(); }
  // The bundle's bytes; the same inputs give the same bytes, whatever the order of add().
  Result<std::vector<uint8_t>> finish() const;

 private:
  std::vector<Digest> objects_;
  std::map<Digest, std::vector<uint8_t>> blobs_;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, Digest> kernels_;
};

}  // namespace btfd::bundle
