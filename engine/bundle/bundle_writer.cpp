// SPDX-License-Identifier: GPL-2.0-or-later
#include "bundle/bundle_writer.hpp"

#include <algorithm>
#include <cstring>
#include <tuple>

namespace btfd::bundle {

BundleBuilder::BundleBuilder(std::vector<Digest> objects) : objects_(std::move(objects)) {
  std::sort(objects_.begin(), objects_.end());
  objects_.erase(std::unique(objects_.begin(), objects_.end()), objects_.end());
}

Status BundleBuilder::add(const KernelName& k, std::vector<uint8_t> btf) {
  BTFD_TRY_VOID(check_key_component(k.distro, "distro"));
  BTFD_TRY_VOID(check_key_component(k.version, "version"));
  BTFD_TRY_VOID(check_key_component(k.arch, "arch"));
  BTFD_TRY_VOID(check_key_component(k.release, "release"));
  if (btf.empty()) return make_error(Errc::invalid_argument, "bundle: empty BTF for " + k.release);
  auto key = std::make_tuple(k.distro, k.version, k.arch, k.release);
  if (kernels_.count(key))
    return make_error(Errc::invalid_argument,
                      "bundle: kernel " + k.distro + "/" + k.version + "/" + k.arch + "/" + k.release + " added twice");
  Digest d = sha256(btf);
  kernels_.emplace(key, d);
  blobs_.try_emplace(d, std::move(btf));
  return {};
}

Result<std::vector<uint8_t>> BundleBuilder::finish() const {
  // Strings, deduplicated (distro, version and arch names repeat for every kernel).
  std::string strings;
  std::map<std::string, uint32_t> string_offsets;
  auto intern = [&](const std::string& s) {
    auto [it, fresh] = string_offsets.try_emplace(s, static_cast<uint32_t>(strings.size()));
    if (fresh) strings.append(s).push_back('\0');
    return it->second;
  };
  // Blobs in the order the sorted kernel table first names them: deterministic.
  std::vector<const Digest*> blob_order;
  std::map<Digest, uint32_t> blob_index;
  for (const auto& [key, d] : kernels_)
    if (blob_index.try_emplace(d, static_cast<uint32_t>(blob_order.size())).second) blob_order.push_back(&d);
  std::vector<uint8_t> kernel_table(kernels_.size() * kKernelRecord);
  size_t i = 0;
  // std::map's tuple order is the reader's compare_keys() order (bytewise, field by field).
  for (const auto& [key, d] : kernels_) {
    uint8_t* r = kernel_table.data() + i++ * kKernelRecord;
    store_u32(r, intern(std::get<0>(key)));
    store_u32(r + 4, intern(std::get<1>(key)));
    store_u32(r + 8, intern(std::get<2>(key)));
    store_u32(r + 12, intern(std::get<3>(key)));
    store_u32(r + 16, blob_index.at(d));
  }
  uint64_t index_size = objects_.size() * kObjectRecord + blob_order.size() * kBlobRecord + kernel_table.size() +
                        strings.size();
  uint64_t offset = kHeaderSize + index_size;
  std::vector<uint8_t> blob_table(blob_order.size() * kBlobRecord);
  std::vector<uint64_t> offsets;
  for (size_t b = 0; b < blob_order.size(); ++b) {
    offset = (offset + 7) & ~uint64_t{7};
    const auto& bytes = blobs_.at(*blob_order[b]);
    uint8_t* r = blob_table.data() + b * kBlobRecord;
    store_u64(r, offset);
    store_u64(r + 8, bytes.size());
    std::memcpy(r + 16, blob_order[b]->data(), 32);
    offsets.push_back(offset);
    offset += bytes.size();
  }
  if (strings.size() > Limits{}.max_strings || kernels_.size() > Limits{}.max_kernels ||
      objects_.size() > Limits{}.max_objects)
    return make_error(Errc::too_large, "bundle: more kernels, objects or names than a bundle may hold");
  std::vector<uint8_t> out(std::max<uint64_t>(offset, kHeaderSize), 0);
  uint8_t* h = &out[0];
  std::memcpy(h + hdr::magic, kMagic, sizeof kMagic);
  store_u32(h + hdr::version, kVersion);
  store_u64(h + hdr::file_size, out.size());
  store_u64(h + hdr::index_offset, kHeaderSize);
  store_u64(h + hdr::index_size, index_size);
  store_u32(h + hdr::object_count, static_cast<uint32_t>(objects_.size()));
  store_u32(h + hdr::blob_count, static_cast<uint32_t>(blob_order.size()));
  store_u32(h + hdr::kernel_count, static_cast<uint32_t>(kernels_.size()));
  store_u32(h + hdr::strings_size, static_cast<uint32_t>(strings.size()));
  uint8_t* p = h + kHeaderSize;
  for (const auto& d : objects_) p = std::copy(d.begin(), d.end(), p);
  p = std::copy(blob_table.begin(), blob_table.end(), p);
  p = std::copy(kernel_table.begin(), kernel_table.end(), p);
  std::memcpy(p, strings.data(), strings.size());
  for (size_t b = 0; b < blob_order.size(); ++b) {
    const auto& bytes = blobs_.at(*blob_order[b]);
    std::memcpy(h + offsets[b], bytes.data(), bytes.size());
  }
  Digest index_digest = sha256(std::span<const uint8_t>(h + kHeaderSize, index_size));
  std::memcpy(h + hdr::index_sha256, index_digest.data(), 32);
  Digest header_digest = sha256(std::span<const uint8_t>(h, hdr::header_sha256));
  std::memcpy(h + hdr::header_sha256, header_digest.data(), 32);
  return out;
}

}  // namespace btfd::bundle
