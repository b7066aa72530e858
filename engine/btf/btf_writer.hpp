// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// Builds raw BTF: type records appended in id order, strings deduplicated in
// first-use order. It lays bytes out as libbpf's btf__add_* writer does (""
// at offset 0, strings in the order records name them), so our output for
// cases where bpftool is right stays byte-identical to bpftool's.

#include <linux/btf.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace btfd::btf {

class BtfWriter {
 public:
  BtfWriter();
  uint32_t add_str(std::string_view s);
  // Appends a record of `size` bytes and returns it for the caller to fill in;
  // valid until the next append. Returns the new type's id in *id.
  uint8_t* append(size_t size, uint32_t* id);
  uint32_t types() const { return types_; }
  std::vector<uint8_t> finish() const;

 private:
  std::vector<uint8_t> types_data_;
  std::string strs_;
  std::unordered_map<std::string, uint32_t> str_index_;
  uint32_t types_ = 0;
};

}  // namespace btfd::btf
