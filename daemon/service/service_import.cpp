// SPDX-License-Identifier: GPL-2.0-or-later
// Importing a bundle (btfctl import, for air-gapped hosts): its minimized BTFs
// become cache entries for the objects it was made for, so that a GetBtf for
// those objects on one of its kernels is a cache hit without the hub.
//
// Keys: a minimized entry is keyed by (kernel digest, object set). An imported
// one has no full kernel behind it, so its kernel digest stands for the
// kernel's identity (bundle_kernel_digest). It is filed under the bundle's
// whole object set and under each of its objects alone: BTF minimized for a
// set resolves every relocation of each member exactly as BTF minimized for
// that member would (it holds a superset of the types, every candidate kept).
#include "bundle/bundle_check.hpp"
#include "service/service.hpp"
#include "util/log.hpp"

namespace btfd::server {

Digest bundle_kernel_digest(const KernelIdentity& id) {
  std::string key = "btfd bundle kernel\n" + id.to_string();
  return sha256(std::span(reinterpret_cast<const uint8_t*>(key.data()), key.size()));
}

Result<nlohmann::json> Service::import_bundle(std::span<const uint8_t> bytes) {
  auto view = bundle::BundleView::parse(bytes);
  if (!view) return std::move(view).error();
  // A GetBtf names at most max_objects objects: a key for more could never be
  // looked up, and each object multiplies the entries below.
  if (view->object_count() > cfg_.max_objects)
    return make_error(Errc::too_large, "the bundle was made for " + std::to_string(view->object_count()) +
                                           " objects; btfd imports bundles for at most " +
                                           std::to_string(cfg_.max_objects) + " (MaxObjectsPerRequest=)");
  std::vector<Digest> objects;
  for (uint32_t i = 0; i < view->object_count(); ++i) objects.push_back(view->object(i));
  std::vector<std::vector<Digest>> keys;
  if (!objects.empty()) keys.push_back(objects);
  if (objects.size() > 1)
    for (const auto& o : objects) keys.push_back({o});
  uint64_t entries = uint64_t{view->kernel_count()} * keys.size();
  if (entries > cfg_.max_import_entries)
    return make_error(Errc::too_large, "the bundle would make " + std::to_string(entries) +
                                           " cache entries (kernels x (objects + 1)); btfd imports at most " +
                                           std::to_string(cfg_.max_import_entries) + " (MaxImportEntries=)");
  // Every blob is hashed and validated before anything is stored, and the
  // store records all entries in one transaction: all or nothing.
  BTFD_TRY_VOID(bundle::check_all_blobs(*view));
  std::vector<std::span<const uint8_t>> blobs;
  std::vector<size_t> slot(view->blob_count(), SIZE_MAX);  // bundle blob index -> blobs index
  std::vector<store::Store::MinimizedRow> rows;
  rows.reserve(entries);
  for (uint32_t i = 0; i < view->kernel_count(); ++i) {
    auto k = view->kernel(i);
    KernelIdentity id{std::string(k.distro), std::string(k.version), std::string(k.arch), std::string(k.release)};
    if (auto st = validate_identity(id); !st) return std::move(st).error().wrap("bundle kernel " + std::to_string(i));
    uint32_t b = view->kernel_blob(i);
    if (b >= slot.size()) return make_error(Errc::corrupt, "bundle kernel " + std::to_string(i) + " names no blob");
    if (slot[b] == SIZE_MAX) {
      BTFD_TRY(auto blob, view->blob_verified(b));
      slot[b] = blobs.size();
      blobs.push_back(blob);
    }
    Digest kd = bundle_kernel_digest(id);
    for (const auto& key : keys) rows.push_back({kd, key, slot[b]});
  }
  auto stored = store_->put_minimized_many(blobs, std::move(rows), "{\"source\":\"bundle\"}");
  if (!stored) {
    Error e = std::move(stored).error();
    if (e.code != Errc::no_space && e.code != Errc::busy && e.code != Errc::too_large) e.code = Errc::io;
    return std::move(e).wrap("importing the bundle");
  }
  log_info("imported a bundle: %u kernels, %zu distinct BTFs, %zu objects", view->kernel_count(), blobs.size(),
           objects.size());
  nlohmann::json digests = nlohmann::json::array();
  for (const auto& o : objects) digests.push_back(to_hex(o));
  return nlohmann::json{{"kernels", view->kernel_count()}, {"blobs", view->blob_count()},
                        {"objects", digests}, {"entries", *stored}};
}

std::optional<BtfAnswer> Service::imported_answer(const KernelIdentity& id, std::vector<Digest> objects) {
  auto hit = store_->find_minimized(bundle_kernel_digest(id), std::move(objects));
  if (!hit || !*hit) return std::nullopt;
  ++stats_.minimized_hits;
  BtfAnswer a;
  a.blob = std::move((*hit)->blob);
  a.kernel = id;
  a.source = "bundle";
  a.cached = true;
  a.minimized = true;
  a.relocations = nlohmann::json::array();
  return a;
}

}  // namespace btfd::server
