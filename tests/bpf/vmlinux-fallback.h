/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Minimal kernel types for the BPF test objects on build machines without
 * /sys/kernel/btf/vmlinux. CO-RE relocates these against the real kernel. */
#ifndef BTFD_VMLINUX_FALLBACK_H
#define BTFD_VMLINUX_FALLBACK_H
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
enum { false = 0, true = 1 };
typedef int __kernel_pid_t;
typedef __kernel_pid_t pid_t;

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
struct task_struct {
  unsigned int __state;
  int prio;
  unsigned int sched_reset_on_fork : 1;
  pid_t pid;
  pid_t tgid;
  struct task_struct *real_parent;
  char comm[16];
};
#pragma clang attribute pop
#endif
