// SPDX-License-Identifier: GPL-2.0-or-later
#include "bundle/bundle_check.hpp"

#include "btf/btf_validate.hpp"

namespace btfd::bundle {

Status check_all_blobs(const BundleView& view) {
  for (uint32_t i = 0; i < view.blob_count(); ++i) {
    BTFD_TRY(auto bytes, view.blob_verified(i));
    auto layout = btf::validate_btf(bytes);
    if (!layout)
      return make_error(Errc::corrupt, "bundle: blob " + std::to_string(i) + " is not valid BTF: " + layout.error().message);
  }
  return {};
}

}  // namespace btfd::bundle
