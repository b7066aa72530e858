// SPDX-License-Identifier: GPL-2.0-or-later
#include "btf/btf_writer.hpp"

#include <cstring>

namespace btfd::btf {

BtfWriter::BtfWriter() : strs_(1, '\0') { str_index_.emplace("", 0); }

uint32_t BtfWriter::add_str(std::string_view s) {
  auto [it, added] = str_index_.try_emplace(std::string(s), static_cast<uint32_t>(strs_.size()));
  if (added) {
    strs_.append(s);
    strs_.push_back('\0');
  }
  return it->second;
}

uint8_t* BtfWriter::append(size_t size, uint32_t* id) {
  size_t at = types_data_.size();
  types_data_.resize(at + size);
  *id = ++types_;
  return types_data_.data() + at;
}

std::vector<uint8_t> BtfWriter::finish() const {
  struct btf_header hdr{};
  hdr.magic = BTF_MAGIC;
  hdr.version = BTF_VERSION;
  hdr.hdr_len = sizeof(hdr);
  hdr.type_off = 0;
  hdr.type_len = static_cast<uint32_t>(types_data_.size());
  hdr.str_off = hdr.type_len;
  hdr.str_len = static_cast<uint32_t>(strs_.size());
  std::vector<uint8_t> out(sizeof(hdr) + types_data_.size() + strs_.size());
  std::memcpy(out.data(), &hdr, sizeof(hdr));
  if (!types_data_.empty()) std::memcpy(out.data() + sizeof(hdr), types_data_.data(), types_data_.size());
  std::memcpy(out.data() + sizeof(hdr) + types_data_.size(), strs_.data(), strs_.size());
  return out;
}

}  // namespace btfd::btf
