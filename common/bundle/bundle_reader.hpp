// SPDX-License-Identifier: LGPL-2.1-or-later
#pragma once
// The one reader of BTF bundles (docs/bundle.md): btfd's import, btfctl and
// libbtfd's btfd_bundle_find() all parse a bundle through BundleView, so a
// hostile bundle is refused by the same checks wherever it is opened.
//
// A bundle is read in place (mapped or in memory): parse() checks the header's
// and the index's SHA-256, every count and offset against the file's size and
// against caps, the kernel keys' spelling and order, and that blobs neither
// overlap nor repeat. After it, every accessor stays in bounds. A blob's own
// SHA-256 is checked when it is read (blob_verified()), so looking one kernel
// up costs hashing the index and that blob, not the whole file.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "util/result.hpp"
#include "util/sha256.hpp"

namespace btfd::bundle {

// On-disk layout, version 1 (all integers little-endian):
//   [0, 128)            header
//   [128, 128+index)    index: object digests, blob table, kernel table, strings
//   then                blobs, each at an 8-byte aligned offset
inline constexpr char kMagic[8] = {'B', 'T', 'F', 'D', 'B', 'N', 'D', 'L'};
inline constexpr uint32_t kVersion = 1;
inline constexpr size_t kHeaderSize = 128;
inline constexpr size_t kObjectRecord = 32;  // sha256
inline constexpr size_t kBlobRecord = 48;    // u64 offset, u64 size, sha256
inline constexpr size_t kKernelRecord = 24;  // u32 distro, version, arch, release (string offsets), u32 blob, u32 0
// Header field offsets.
namespace hdr {
inline constexpr size_t magic = 0, version = 8, flags = 12, file_size = 16, index_offset = 24, index_size = 32,
                        object_count = 40, blob_count = 44, kernel_count = 48, strings_size = 52,
                        index_sha256 = 64, header_sha256 = 96;
}

// Caps a reader applies whatever the header says.
struct Limits {
  uint64_t max_file = 4ull << 30;      // the whole bundle
  uint64_t max_blob = 128ull << 20;    // one BTF (btfhub's largest kernel is ~44 MB raw)
  uint32_t max_kernels = 1u << 20;
  uint32_t max_objects = 4096;
  uint32_t max_strings = 64u << 20;
};

// One kernel identity component: what btfhub-archive's directory names allow.
inline constexpr size_t kMaxKeyComponent = 128;
Status check_key_component(std::string_view s, const char* what);

struct KernelKey {
  std::string_view distro, version, arch, release;
};
// Ordering of the kernel table (and of lookups): by distro, version, arch, release.
int compare_keys(const KernelKey& a, const KernelKey& b);

struct BlobRef {
  uint64_t offset = 0;
  uint64_t size = 0;
  Digest digest{};
};

class BundleView {
 public:
  // bytes must outlive the view. Errors are Errc::corrupt (or too_large past
  // a limit), the message naming what is wrong.
  static Result<BundleView> parse(std::span<const uint8_t> bytes, const Limits& limits = {});
  // The same from the header and index alone (what read_index() returns) and
  // the file's size: blobs are then read with read_blob().
  static Result<BundleView> parse_index(std::span<const uint8_t> prefix, uint64_t file_size,
                                        const Limits& limits = {});

  uint32_t kernel_count() const { return kernels_; }
  uint32_t blob_count() const { return blobs_; }
  uint32_t object_count() const { return objects_; }
  KernelKey kernel(uint32_t i) const;
  uint32_t kernel_blob(uint32_t i) const;
  BlobRef blob(uint32_t i) const;
  Digest object(uint32_t i) const;
  // Index of the kernel with exactly this key (binary search).
  std::optional<uint32_t> find(const KernelKey& key) const;
  // The blob's bytes, after checking them against its SHA-256 (a view made by
  // parse() only: parse_index() holds no blobs).
  Result<std::span<const uint8_t>> blob_verified(uint32_t i) const;
  uint64_t file_size() const { return file_size_; }
  // Bytes of header and index.
  uint64_t index_end() const;

 private:
  std::span<const uint8_t> bytes_;  // the whole file, or (parse_index) its header and index
  uint64_t file_size_ = 0;
  uint32_t kernels_ = 0, blobs_ = 0, objects_ = 0;
  const uint8_t* object_table_ = nullptr;
  const uint8_t* blob_table_ = nullptr;
  const uint8_t* kernel_table_ = nullptr;
  const char* strings_ = nullptr;
};

// Reads a bundle's header and index from a file (pread: the file position is
// left alone) after checking the sizes the header claims against the limits.
Result<std::vector<uint8_t>> read_index(int fd, uint64_t file_size, const Limits& limits = {});
// Reads blob i from the file and checks it against its SHA-256.
Result<std::vector<uint8_t>> read_blob(int fd, const BundleView& view, uint32_t i);

// Little-endian helpers shared with the writer.
inline uint32_t load_u32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline uint64_t load_u64(const uint8_t* p) { return uint64_t(load_u32(p)) | uint64_t(load_u32(p + 4)) << 32; }
inline void store_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
inline void store_u64(uint8_t* p, uint64_t v) {
  store_u32(p, uint32_t(v));
  store_u32(p + 4, uint32_t(v >> 32));
}

}  // namespace btfd::bundle
