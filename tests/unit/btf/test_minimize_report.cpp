// SPDX-License-Identifier: GPL-2.0-or-later
// The minimizer's report-only mode (btfctl check): an ambiguous relocation is
// reported and the run goes on; no BTF is emitted; a relocation names its access
// as libbpf does.
#include <bpf/btf.h>
#include <doctest/doctest.h>
#include <linux/bpf.h>

#include <string>

#include "bpf_elf.hpp"
#include "btf_raw.hpp"
#include "btf/kernel_btf.hpp"
#include "btf/minimizer.hpp"
#include "btf/object_file.hpp"

using namespace btfd::btf;
using btfd::test::bpf_object;
using btfd::test::btf_ext_bytes;
using btfd::test::CoreReloRecord;

namespace {

using btfd::test::raw_of;

// A kernel with task_struct { int x; int pid; } and, when `flavor`, also
// task_struct___b { int pid; }: two candidates that disagree on pid's offset.
std::vector<uint8_t> kernel(bool flavor) {
  BtfPtr k(btf__new_empty());
  int ki = btf__add_int(k.get(), "int", 4, BTF_INT_SIGNED);
  btf__add_struct(k.get(), "task_struct", 8);
  btf__add_field(k.get(), "x", ki, 0, 0);
  btf__add_field(k.get(), "pid", ki, 32, 0);
  if (flavor) {
    btf__add_struct(k.get(), "task_struct___b", 4);
    btf__add_field(k.get(), "pid", ki, 0, 0);
  }
  return raw_of(k.get());
}

// An object reading task_struct.pid (byte_off) and asking whether
// task_struct.pid exists (field_exists).
std::vector<uint8_t> object() {
  BtfPtr o(btf__new_empty());
  int oi = btf__add_int(o.get(), "int", 4, BTF_INT_SIGNED);
  int s = btf__add_struct(o.get(), "task_struct", 4);
  btf__add_field(o.get(), "pid", oi, 0, 0);
  auto sec = static_cast<uint32_t>(btf__add_str(o.get(), "kprobe/x"));
  auto access = static_cast<uint32_t>(btf__add_str(o.get(), "0:0"));
  auto ext = btf_ext_bytes(sec, {CoreReloRecord{0, static_cast<uint32_t>(s), access, BPF_CORE_FIELD_BYTE_OFFSET},
                                 CoreReloRecord{8, static_cast<uint32_t>(s), access, BPF_CORE_FIELD_EXISTS}});
  return bpf_object(raw_of(o.get()), ext);
}

}  // namespace

TEST_CASE("an ambiguity fails minimize by default and is reported, run going on, when asked") {
  auto k = KernelBtf::parse(kernel(true));
  REQUIRE(k.ok());
  auto obj = object();
  ObjectInput in{"amb.o", obj};
  auto strict = minimize(**k, std::span(&in, 1));
  REQUIRE_FALSE(strict.ok());
  CHECK(strict.error().code == btfd::Errc::ambiguous);
  MinimizeOptions opts;
  opts.emit = false;
  opts.report_ambiguity = true;
  auto r = minimize(**k, std::span(&in, 1), opts);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
  REQUIRE(r->relocs.size() == 2);
  CHECK(r->relocs[0].ambiguity.find("field offset ambiguity") != std::string::npos);
  CHECK(r->relocs[0].candidates == 2);
  CHECK(r->relocs[0].access == "struct task_struct.pid");
  CHECK(r->relocs[0].local_spec.find("struct task_struct.pid (0:0 @ offset 0)") != std::string::npos);
  // The second relocation was still matched (libbpf keeps both candidates after an ambiguity).
  CHECK(r->relocs[1].kind == "field_exists");
  CHECK_FALSE(r->relocs[1].ambiguity.empty());
  CHECK(r->btf.empty());
}

TEST_CASE("report-only: no BTF emitted, same relocation results as a full run") {
  auto k = KernelBtf::parse(kernel(false));
  REQUIRE(k.ok());
  auto obj = object();
  ObjectInput in{"one.o", obj};
  MinimizeOptions opts;
  opts.emit = false;
  opts.report_ambiguity = true;
  auto full = minimize(**k, std::span(&in, 1));
  auto report = minimize(**k, std::span(&in, 1), opts);
  REQUIRE(full.ok());
  REQUIRE(report.ok());
  CHECK_FALSE(full->btf.empty());
  CHECK(report->btf.empty());
  REQUIRE(full->relocs.size() == report->relocs.size());
  for (size_t i = 0; i < full->relocs.size(); ++i) {
    CHECK(full->relocs[i].target_spec == report->relocs[i].target_spec);
    CHECK(full->relocs[i].matches == 1);
    CHECK(report->relocs[i].ambiguity.empty());
    CHECK(report->relocs[i].access == "struct task_struct.pid");
  }
}
