// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target: the bundle reader (common/bundle, shared by btfd's
// import and libbtfd's btfd_bundle_find) and the import's whole-bundle check,
// on arbitrary bytes; also through the file path libbtfd takes (read_index,
// read_blob) on a memfd holding the same bytes.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#include "bundle/bundle_check.hpp"
#include "bundle/bundle_reader.hpp"
#include "util/fd.hpp"

using namespace btfd::bundle;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Limits limits;
  limits.max_blob = 1 << 20;
  auto view = BundleView::parse({data, size}, limits);
  if (view) {
    (void)check_all_blobs(*view);
    for (uint32_t i = 0; i < view->kernel_count(); ++i) {
      auto k = view->kernel(i);
      auto found = view->find(k);
      if (!found || *found != i) __builtin_trap();  // a parsed index must find its own keys
      (void)view->blob_verified(view->kernel_blob(i));
    }
  }
  static int fd = memfd_create("fuzz-bundle", MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, 0) < 0) return 0;
  if (!btfd::write_all(fd, std::span<const uint8_t>(data, size))) return 0;
  auto prefix = read_index(fd, size, limits);
  if (!prefix) return 0;
  auto v2 = BundleView::parse_index(*prefix, size, limits);
  if (v2 && v2->kernel_count()) (void)read_blob(fd, *v2, v2->kernel_blob(0));
  return 0;
}
