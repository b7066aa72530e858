// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// The programs of a BPF object as libbpf names them (function symbols in
// executable sections), so `btfctl check` can say which program a relocation
// belongs to, with the executable sections' instructions, so it can follow a
// function's control flow (check_flow.hpp). Read from the object's bytes with
// libelf; a hostile object gets an error, never a crash.

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

struct CodeSection {
  std::string name;
  std::vector<uint8_t> bytes;  // its instructions, 8 bytes each, in the object's byte order
};

struct ObjectPrograms {
  std::vector<Program> programs;  // entry programs (not in .text), in section then address order
  std::vector<Program> subprograms;  // functions in .text, called by the programs
  // The executable sections (names are unique): every function lies inside its
  // section, on instruction boundaries. Held once per section, so functions
  // that overlap cost no more memory than the object's size.
  std::vector<CodeSection> code;
  bool big_endian = false;  // ELFDATA2MSB
};

btfd::Result<ObjectPrograms> list_programs(const std::string& name, std::span<const uint8_t> bytes);

// The bytes of function f's instructions; empty when its section holds no
// code (a hand-made ObjectPrograms).
std::span<const uint8_t> code_of(const ObjectPrograms& p, const Program& f);

// The entry program holding instruction `insn` of `section`; nullptr for a
// subprogram (.text) or an instruction outside every known function.
const Program* program_at(const ObjectPrograms& p, const std::string& section, uint32_t insn);

}  // namespace btfctl::check
