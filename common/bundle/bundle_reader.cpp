// SPDX-License-Identifier: LGPL-2.1-or-later
#include "bundle/bundle_reader.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace btfd::bundle {
namespace {

Error corrupt(const std::string& what) { return make_error(Errc::corrupt, "bundle: " + what); }

std::string_view string_at(const char* strings, uint32_t off) { return std::string_view(strings + off); }

}  // namespace

Status check_key_component(std::string_view s, const char* what) {
  if (s.empty()) return corrupt(std::string(what) + " is empty");
  if (s.size() > kMaxKeyComponent) return corrupt(std::string(what) + " is longer than 128 bytes");
  if (s == "." || s == "..") return corrupt(std::string(what) + " is \".\" or \"..\"");
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
      return corrupt(std::string(what) + " holds a control character, '/' or '\\'");
  return {};
}

int compare_keys(const KernelKey& a, const KernelKey& b) {
  for (auto [x, y] : {std::pair{a.distro, b.distro}, {a.version, b.version}, {a.arch, b.arch}, {a.release, b.release}}) {
    int c = x.compare(y);
    if (c) return c < 0 ? -1 : 1;
  }
  return 0;
}

Result<BundleView> BundleView::parse(std::span<const uint8_t> bytes, const Limits& limits) {
  return parse_index(bytes, bytes.size(), limits);
}

uint64_t BundleView::index_end() const {
  return kHeaderSize + uint64_t(objects_) * kObjectRecord + uint64_t(blobs_) * kBlobRecord +
         uint64_t(kernels_) * kKernelRecord + load_u32(bytes_.data() + hdr::strings_size);
}

Result<BundleView> BundleView::parse_index(std::span<const uint8_t> bytes, uint64_t file_size, const Limits& limits) {
  if (file_size > limits.max_file)
    return make_error(Errc::too_large, "bundle: " + std::to_string(file_size) + " bytes, more than the limit of " +
                                           std::to_string(limits.max_file));
  if (bytes.size() > file_size) return make_error(Errc::internal, "bundle: more bytes than the file has");
  if (file_size < kHeaderSize || bytes.size() < kHeaderSize)
    return corrupt("shorter than its header (" + std::to_string(file_size) + " bytes)");
  const uint8_t* h = bytes.data();
  if (std::memcmp(h + hdr::magic, kMagic, sizeof kMagic) != 0) return corrupt("not a btfd bundle (bad magic)");
  if (load_u32(h + hdr::version) != kVersion)
    return make_error(Errc::unsupported,
                      "bundle: format version " + std::to_string(load_u32(h + hdr::version)) + " (this reader knows 1)");
  Digest hd = sha256(bytes.subspan(0, hdr::header_sha256));
  if (std::memcmp(hd.data(), h + hdr::header_sha256, hd.size()) != 0) return corrupt("header checksum mismatch");
  if (load_u32(h + hdr::flags) != 0) return corrupt("unknown flags in the header");
  for (size_t i = hdr::strings_size + 4; i < hdr::index_sha256; ++i)
    if (h[i]) return corrupt("reserved header bytes are not zero");
  if (load_u64(h + hdr::file_size) != file_size)
    return corrupt("header says " + std::to_string(load_u64(h + hdr::file_size)) + " bytes, the file has " +
                   std::to_string(file_size) + " (truncated or padded)");
  BundleView v;
  v.bytes_ = bytes;
  v.file_size_ = file_size;
  v.objects_ = load_u32(h + hdr::object_count);
  v.blobs_ = load_u32(h + hdr::blob_count);
  v.kernels_ = load_u32(h + hdr::kernel_count);
  uint32_t strings_size = load_u32(h + hdr::strings_size);
  if (v.objects_ > limits.max_objects) return make_error(Errc::too_large, "bundle: too many object digests");
  if (v.kernels_ > limits.max_kernels) return make_error(Errc::too_large, "bundle: too many kernels");
  if (v.blobs_ > v.kernels_) return corrupt("more blobs than kernels (a blob nothing names)");
  if (strings_size > limits.max_strings) return make_error(Errc::too_large, "bundle: string table too large");
  // 64-bit arithmetic: every term is bounded by a 32-bit count times a small record.
  uint64_t index_size = uint64_t(v.objects_) * kObjectRecord + uint64_t(v.blobs_) * kBlobRecord +
                        uint64_t(v.kernels_) * kKernelRecord + strings_size;
  if (load_u64(h + hdr::index_offset) != kHeaderSize) return corrupt("the index does not follow the header");
  if (load_u64(h + hdr::index_size) != index_size) return corrupt("index size does not match its counts");
  if (index_size > file_size - kHeaderSize) return corrupt("the index runs past the end of the file");
  if (index_size > bytes.size() - kHeaderSize) return make_error(Errc::internal, "bundle: the index was not read");
  auto index = bytes.subspan(kHeaderSize, index_size);
  Digest id = sha256(index);
  if (std::memcmp(id.data(), h + hdr::index_sha256, id.size()) != 0) return corrupt("index checksum mismatch");
  v.object_table_ = index.data();
  v.blob_table_ = v.object_table_ + uint64_t(v.objects_) * kObjectRecord;
  v.kernel_table_ = v.blob_table_ + uint64_t(v.blobs_) * kBlobRecord;
  v.strings_ = reinterpret_cast<const char*>(v.kernel_table_ + uint64_t(v.kernels_) * kKernelRecord);
  if (v.kernels_ && (strings_size == 0 || v.strings_[strings_size - 1] != '\0'))
    return corrupt("the string table does not end with NUL");
  // Objects: sorted, distinct (the set the bundle was made for).
  for (uint32_t i = 1; i < v.objects_; ++i)
    if (std::memcmp(v.object_table_ + (i - 1) * kObjectRecord, v.object_table_ + i * kObjectRecord, kObjectRecord) >= 0)
      return corrupt("object digests are not sorted and distinct");
  // Blobs: after the index, 8-aligned, ascending, not overlapping, within the
  // file and the size cap; digests distinct (identical content is stored once).
  uint64_t end = kHeaderSize + index_size;
  std::vector<Digest> digests;
  digests.reserve(v.blobs_);
  for (uint32_t i = 0; i < v.blobs_; ++i) {
    BlobRef b = v.blob(i);
    std::string which = "blob " + std::to_string(i);
    if (b.size == 0) return corrupt(which + " is empty");
    if (b.size > limits.max_blob)
      return make_error(Errc::too_large, "bundle: " + which + " is " + std::to_string(b.size) + " bytes, more than " +
                                             std::to_string(limits.max_blob));
    if (b.offset % 8 || b.offset < end || b.offset > file_size || b.size > file_size - b.offset)
      return corrupt(which + " is misplaced (overlaps, unaligned or past the end)");
    end = b.offset + b.size;
    digests.push_back(b.digest);
  }
  if (end != file_size) return corrupt("bytes after the last blob");
  std::sort(digests.begin(), digests.end());
  if (std::adjacent_find(digests.begin(), digests.end()) != digests.end())
    return corrupt("the same content is stored twice");
  // Kernels: well-formed keys, strictly ascending (lookups bisect), each naming a
  // blob; every blob named by some kernel.
  std::vector<bool> used(v.blobs_, false);
  for (uint32_t i = 0; i < v.kernels_; ++i) {
    const uint8_t* r = v.kernel_table_ + uint64_t(i) * kKernelRecord;
    std::string which = "kernel " + std::to_string(i);
    for (int f = 0; f < 4; ++f)
      if (load_u32(r + 4 * f) >= strings_size) return corrupt(which + ": a name points outside the string table");
    if (load_u32(r + 20) != 0) return corrupt(which + ": reserved field is not zero");
    uint32_t blob = load_u32(r + 16);
    if (blob >= v.blobs_) return corrupt(which + ": names blob " + std::to_string(blob) + ", which does not exist");
    used[blob] = true;
    KernelKey k = v.kernel(i);
    BTFD_TRY_VOID(check_key_component(k.distro, (which + " distro").c_str()));
    BTFD_TRY_VOID(check_key_component(k.version, (which + " version").c_str()));
    BTFD_TRY_VOID(check_key_component(k.arch, (which + " arch").c_str()));
    BTFD_TRY_VOID(check_key_component(k.release, (which + " release").c_str()));
    if (i && compare_keys(v.kernel(i - 1), k) >= 0) return corrupt(which + ": kernels are not sorted and distinct");
  }
  for (uint32_t i = 0; i < v.blobs_; ++i)
    if (!used[i]) return corrupt("blob " + std::to_string(i) + " is named by no kernel");
  return v;
}

KernelKey BundleView::kernel(uint32_t i) const {
  const uint8_t* r = kernel_table_ + uint64_t(i) * kKernelRecord;
  return {string_at(strings_, load_u32(r)), string_at(strings_, load_u32(r + 4)), string_at(strings_, load_u32(r + 8)),
          string_at(strings_, load_u32(r + 12))};
}

uint32_t BundleView::kernel_blob(uint32_t i) const { return load_u32(kernel_table_ + uint64_t(i) * kKernelRecord + 16); }

BlobRef BundleView::blob(uint32_t i) const {
  const uint8_t* r = blob_table_ + uint64_t(i) * kBlobRecord;
  BlobRef b;
  b.offset = load_u64(r);
  b.size = load_u64(r + 8);
  std::memcpy(b.digest.data(), r + 16, b.digest.size());
  return b;
}

Digest BundleView::object(uint32_t i) const {
  Digest d;
  std::memcpy(d.data(), object_table_ + uint64_t(i) * kObjectRecord, d.size());
  return d;
}

std::optional<uint32_t> BundleView::find(const KernelKey& key) const {
  uint32_t lo = 0, hi = kernels_;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    int c = compare_keys(kernel(mid), key);
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return std::nullopt;
}

Result<std::span<const uint8_t>> BundleView::blob_verified(uint32_t i) const {
  if (i >= blobs_) return make_error(Errc::invalid_argument, "bundle: no blob " + std::to_string(i));
  BlobRef b = blob(i);
  if (bytes_.size() != file_size_) return make_error(Errc::internal, "bundle: blobs were not read (read_blob)");
  auto data = bytes_.subspan(b.offset, b.size);
  if (sha256(data) != b.digest) return corrupt("blob " + std::to_string(i) + " does not match its SHA-256");
  return data;
}

}  // namespace btfd::bundle

namespace btfd::bundle {

Result<std::vector<uint8_t>> read_index(int fd, uint64_t file_size, const Limits& limits) {
  auto pread_exact = [fd](uint8_t* dst, size_t n, uint64_t off) -> Status {
    while (n) {
      ssize_t r = ::pread(fd, dst, n, static_cast<off_t>(off));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return sys_error(errno, "bundle: read");
      if (r == 0) return corrupt("the file ends early");
      dst += r, n -= static_cast<size_t>(r), off += static_cast<uint64_t>(r);
    }
    return {};
  };
  if (file_size > limits.max_file)
    return make_error(Errc::too_large, "bundle: " + std::to_string(file_size) + " bytes, more than the limit of " +
                                           std::to_string(limits.max_file));
  if (file_size < kHeaderSize) return corrupt("shorter than its header (" + std::to_string(file_size) + " bytes)");
  std::vector<uint8_t> buf(kHeaderSize);
  BTFD_TRY_VOID(pread_exact(buf.data(), kHeaderSize, 0));
  const uint8_t* h = buf.data();
  uint32_t objects = load_u32(h + hdr::object_count), blobs = load_u32(h + hdr::blob_count),
           kernels = load_u32(h + hdr::kernel_count), strings = load_u32(h + hdr::strings_size);
  // Bounded before anything is allocated: parse_index() says what exactly is wrong.
  if (objects > limits.max_objects || kernels > limits.max_kernels || blobs > limits.max_kernels ||
      strings > limits.max_strings)
    return make_error(Errc::too_large, "bundle: the header claims more entries than a bundle may hold");
  uint64_t index = uint64_t(objects) * kObjectRecord + uint64_t(blobs) * kBlobRecord +
                   uint64_t(kernels) * kKernelRecord + strings;
  if (index > file_size - kHeaderSize) return buf;  // parse_index() names the problem
  buf.resize(kHeaderSize + index);
  BTFD_TRY_VOID(pread_exact(buf.data() + kHeaderSize, index, kHeaderSize));
  return buf;
}

Result<std::vector<uint8_t>> read_blob(int fd, const BundleView& view, uint32_t i) {
  if (i >= view.blob_count()) return make_error(Errc::invalid_argument, "bundle: no blob " + std::to_string(i));
  BlobRef b = view.blob(i);
  std::vector<uint8_t> out(b.size);
  size_t done = 0;
  while (done < out.size()) {
    ssize_t r = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(b.offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return sys_error(errno, "bundle: read");
    if (r == 0) return corrupt("the file ends early (it shrank while being read)");
    done += static_cast<size_t>(r);
  }
  if (sha256(out) != b.digest) return corrupt("blob " + std::to_string(i) + " does not match its SHA-256");
  return out;
}

}  // namespace btfd::bundle
