// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// A BPF object parsed from bytes (never from a path): its .BTF and its CO-RE
// relocation records.

#include <bpf/btf.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "btf/btf_ext.hpp"
#include "btf/btf_view.hpp"

namespace btfd::btf {

struct BtfDeleter {
  void operator()(struct btf* b) const { btf__free(b); }
};
using BtfPtr = std::unique_ptr<struct btf, BtfDeleter>;

struct ObjectFile {
  std::string name;
  BtfPtr btf;    // libbpf's parse validates the client's bytes
  BtfView view;  // over btf's own copy of the bytes
  std::vector<CoreRelo> relos;
};

Result<ObjectFile> parse_object(std::string name, std::span<const uint8_t> bytes);

}  // namespace btfd::btf
