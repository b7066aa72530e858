// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// `btfctl check`'s run: every kernel of an archive source, each read and parsed
// once for all objects, relocated in parallel through the minimizer's report
// (the one CO-RE matcher btfd has), and classified as libbpf would act on it.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cli/check_programs.hpp"
#include "cli/check_source.hpp"

namespace btfctl::check {

// What libbpf does with a relocation that found no target (or too many).
enum class Outcome {
  absent,     // resolves to 0/false: the *_exists, type_matches, type_size and
              // type_id_target kinds (libbpf's "not found" value); the program loads
  fails,      // libbpf poisons the instruction: the verifier rejects the program
              // if it is reachable (btfctl cannot tell, so it counts as failing)
  ambiguous,  // candidates disagree: libbpf fails the load outright
};
const char* outcome_name(Outcome o);

struct Issue {  // one relocation of one object that did not resolve on one kernel
  std::string program;  // the entry program; "" for a subprogram in .text (counts against every program)
  std::string section;
  uint32_t relo = 0, insn = 0;
  std::string kind;        // libbpf's kind name, e.g. "byte_off"
  std::string access;      // "struct request.rq_disk"
  std::string local_spec;  // libbpf's full spec: "[12] struct request.rq_disk (0:14 @ offset 120)"
  Outcome outcome = Outcome::fails;
  uint32_t candidates = 0;
  std::string reason;  // "field `request.rq_disk` missing", "type `struct foo` missing", ...
  std::string detail;  // for an ambiguity, libbpf's message with the candidates' ids; else ""
};

struct Cell {  // one object on one kernel
  std::string error;  // the object could not be relocated at all (libbpf fails its load)
  std::vector<bool> program_loads;  // parallel to Object::programs.programs
  std::vector<Issue> issues;        // absent, failing and ambiguous relocations
  uint32_t relocations = 0;
  bool loads() const;
};

struct Object {
  std::string path, name;  // name: the file name without .bpf.o / .o
  std::vector<uint8_t> bytes;
  ObjectPrograms programs;
};

struct KernelRow {
  ArchiveEntry entry;
  std::string id;     // "ubuntu/20.04/x86_64/5.4.0-26-generic"
  std::string error;  // the kernel could not be read or parsed; cells are empty then
  std::vector<Cell> cells;  // parallel to the objects
};

struct CheckInput {
  std::string source;
  ArchiveFilter filter;
  unsigned jobs = 1;
  uint64_t max_kernel_bytes = 0;
  // Called (from any worker, serialized) after each kernel: done, total.
  std::function<void(size_t, size_t)> progress;
};

// Loads the objects (their bytes and programs); errors name the file.
btfd::Result<std::vector<Object>> load_objects(const std::vector<std::string>& paths, uint64_t max_bytes);
// Lists the kernels and checks every object on each. Fails only when the source
// cannot be listed; a kernel that cannot be read is a row with an error.
btfd::Result<std::vector<KernelRow>> run_check(const CheckInput& in, const std::vector<Object>& objects);

}  // namespace btfctl::check
