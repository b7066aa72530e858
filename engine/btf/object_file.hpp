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
#include "btf/budget.hpp"
#include "btf/btf_view.hpp"

namespace btfd::btf {

struct BtfDeleter {
  void operator()(struct btf* b) const { btf__free(b); }
};
using BtfPtr = std::unique_ptr<struct btf, BtfDeleter>;

struct ObjectFile {
  ObjectFile() = default;
  // Moves keep btf_bytes' buffer where the view points; a copy would not.
  ObjectFile(ObjectFile&&) = default;
  ObjectFile& operator=(ObjectFile&&) = default;
  ObjectFile(const ObjectFile&) = delete;
  ObjectFile& operator=(const ObjectFile&) = delete;

  std::string name;
  std::string label;  // how messages name it: `"name"`, or "" when the caller says which object (Error::object)
  // The client's .BTF, copied: the section may sit at any offset in the file,
  // and the view reads records in place, which needs 4-byte alignment.
  std::vector<uint8_t> btf_bytes;
  BtfView view;  // over btf_bytes, validated as a kernel's BTF is (btf_validate.hpp)
  std::vector<CoreRelo> relos;
  // What the object holds against its call's budget, released with it.
  Charge charge;
};

// With a budget, the object's relocations count against the call's and its
// memory is charged before it is allocated. Messages begin with the quoted
// name unless name_in_messages is false (btfd names the object by index).
Result<ObjectFile> parse_object(std::string name, std::span<const uint8_t> bytes, CallBudget* budget = nullptr,
                                bool name_in_messages = true);

}  // namespace btfd::btf
