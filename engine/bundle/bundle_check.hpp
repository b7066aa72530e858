// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The whole-bundle check btfd runs before importing anything from a bundle:
// the reader's structural checks (BundleView::parse) plus, for every blob, its
// SHA-256 and btf_validate (the one validation of untrusted BTF).

#include "bundle/bundle_reader.hpp"

namespace btfd::bundle {

// view must come from BundleView::parse (blobs in memory).
Status check_all_blobs(const BundleView& view);

}  // namespace btfd::bundle
