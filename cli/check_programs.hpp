// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The programs of a BPF object as libbpf names them (function symbols in
// executable sections), so `btfctl check` can say which program a relocation
// belongs to. Read from the object's bytes with libelf; a hostile object gets
// an error, never a crash.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace btfctl::check {

struct Program {
  std::string name;     // the function's symbol name: libbpf's program name
  std::string section;  // its ELF section, e.g. "tracepoint/syscalls/sys_enter_execve"
  uint32_t first_insn = 0, end_insn = 0;  // [first, end) instruction indices in the section
};

struct ObjectPrograms {
  std::vector<Program> programs;  // entry programs (not in .text), in section then address order
  std::vector<Program> subprograms;  // functions in .text, called by the programs
};

btfd::Result<ObjectPrograms> list_programs(const std::string& name, std::span<const uint8_t> bytes);

// The entry program holding instruction `insn` of `section`; nullptr for a
// subprogram (.text) or an instruction outside every known function.
const Program* program_at(const ObjectPrograms& p, const std::string& section, uint32_t insn);

}  // namespace btfctl::check
