/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A kernel in miniature for the debug-info tests: compiled with -g at test
 * time into an ELF named vmlinux, whose DWARF pahole turns into BTF. The
 * types are shaped like the kernel's that CO-RE programs read. */
#ifndef BTFD_TEST_KERNEL_H
#define BTFD_TEST_KERNEL_H

typedef int pid_t;
typedef unsigned long long u64;
typedef unsigned int u32;

struct list_head {
  struct list_head *next, *prev;
};

enum task_state { TASK_RUNNING = 0, TASK_INTERRUPTIBLE = 1, TASK_STOPPED = 4 };

struct mm_struct {
  unsigned long start_code, end_code;
  int map_count;
};

struct task_struct {
  volatile long state_word;
  enum task_state state;
  unsigned int flags : 3;
  unsigned int in_execve : 1;
  pid_t pid;
  pid_t tgid;
  struct list_head tasks;
  struct mm_struct *mm;
  struct task_struct *real_parent;
  union {
    u64 utime;
    u32 halves[2];
  };
  char comm[16];
  int (*fn)(struct task_struct *);
};

struct file_operations {
  long (*read)(void *file, char *buf, unsigned long len);
};

int do_exit(struct task_struct *t);
struct task_struct *find_task(pid_t pid);

#endif
