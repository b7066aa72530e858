// SPDX-License-Identifier: GPL-2.0-or-later
// The public header compiles as C++ too, and helpers behave on a BTF-capable host.
#include <bpf/libbpf.h>
#include <doctest/doctest.h>

#include <string>

#include "btfd/libbtfd.h"

TEST_CASE("ensure_core_btf leaves a caller's path alone and is a no-op with native BTF") {
  LIBBPF_OPTS(bpf_object_open_opts, opts);
  opts.btf_custom_path = "/caller/owned";
  CHECK(btfd_ensure_core_btf(&opts) == 0);
  CHECK(std::string(opts.btf_custom_path) == "/caller/owned");
  btfd_clean_core_btf(&opts);  // not ours: untouched
  CHECK(std::string(opts.btf_custom_path) == "/caller/owned");
  CHECK(btfd_ensure_core_btf(nullptr) < 0);
}
