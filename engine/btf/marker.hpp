// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
#include <bpf/btf.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "btf/core_rules.hpp"

namespace btfd::btf {

// Which kernel types (and which of their members) the output keeps. Its walks
// take no budget checkpoints: the state bits let a type be walked at most once
// per way for the whole call, so all the marking a call does is bounded by the
// kernel's size, however many relocations ask for it.
class Marker {
 public:
  explicit Marker(const BtfView* kernel);

  // Marks id; follows typedefs/modifiers/arrays/func protos, and pointers only
  // when follow_ptr is set. Structs reached this way keep no members.
  void mark(uint32_t id, bool follow_ptr);
  // TYPE_MATCHES: like mark, but a struct not behind a pointer keeps all members.
  void mark_match(uint32_t id, bool behind_ptr);
  // Field relocations: the root and each member on the target raw path.
  Status mark_field_path(const Spec& targ);
  void mark_member(uint32_t struct_id, uint32_t idx);
  // Keeps a `long`-like INT when the kernel's pointers are not 8 bytes wide, so
  // libbpf on the loading host sizes pointers as the target does.
  void keep_pointer_size_hint();

  bool marked(uint32_t id) const { return id < state_.size() && state_[id] != 0; }
  bool member_marked(uint32_t id, uint32_t idx) const;

 private:
  enum class Walk : uint8_t { mark, match };
  struct Item {
    uint32_t id;
    Walk walk;
    bool flag;  // mark: follow_ptr; match: behind_ptr
  };
  void drain();
  void step_mark(uint32_t id, bool follow_ptr);
  void step_match(uint32_t id, bool behind_ptr);
  const BtfView* btf_;
  std::vector<Item> work_;  // types still to walk
  // bit 0: marked; bit 1: walked with follow_ptr; bit 2: walked by mark_match
  // not behind a pointer; bit 3: walked by mark_match behind a pointer.
  std::vector<uint8_t> state_;
  std::unordered_map<uint32_t, std::vector<bool>> members_;
};

}  // namespace btfd::btf
