/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A CO-RE program over the test kernel's types (tests/data/debuginfo/kernel.h),
 * compiled at test time against a vmlinux.h dumped from the BTF btfd generated. */
#include "vmlinux.h"
/* What a real kernel's vmlinux.h brings and libbpf's helper declarations use. */
typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

SEC("kprobe/do_exit")
int probe(struct task_struct *t) {
  int pid = BPF_CORE_READ(t, pid);
  int count = BPF_CORE_READ(t, mm, map_count);
  int parent = BPF_CORE_READ(t, real_parent, tgid);
  unsigned int flags = BPF_CORE_READ_BITFIELD_PROBED(t, flags);
  int has_utime = bpf_core_field_exists(t->utime);
  int stopped = bpf_core_enum_value(enum task_state, TASK_STOPPED);
  int size = bpf_core_type_size(struct mm_struct);
  return pid + count + parent + (int)flags + has_utime + stopped + size;
}
