/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Kernel types for the BPF test objects on build machines without
 * /sys/kernel/btf/vmlinux: every type and field the objects name, and no more.
 * CO-RE relocates by name, so these stand in for the real kernel's; field types
 * follow the kernel's where libbpf compares them (pointers stay pointers). */
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
struct page {
  unsigned long flags;
};
typedef struct page *pgtable_t;

struct rb_node {
  unsigned long __rb_parent_color;
  struct rb_node *rb_right;
  struct rb_node *rb_left;
};
struct rb_root {
  struct rb_node *rb_node;
};

struct mm_struct {
  unsigned long task_size;
};
struct file {
  unsigned int f_flags;
};
struct bpf_map {
  __u32 key_size;
};
struct net_device {
  char name[16];
};
struct sk_buff {
  struct net_device *dev;
};
struct vm_fault {
  pgtable_t prealloc_pte;
};

struct task_struct {
  unsigned int __state;
  int prio;
  unsigned int sched_reset_on_fork : 1;
  struct mm_struct *mm;
  pid_t pid;
  pid_t tgid;
  struct task_struct *real_parent;
  char comm[16];
};
#pragma clang attribute pop
#endif
