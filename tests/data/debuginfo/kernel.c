/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "kernel.h"

struct task_struct init_task;
struct mm_struct init_mm;
const struct file_operations null_fops;

int do_exit(struct task_struct *t) { return t->pid + (int)t->state + t->mm->map_count; }

struct task_struct *find_task(pid_t pid) { return pid == init_task.pid ? &init_task : 0; }

/* The ELF's entry point: it is never run, only read. */
void _start(void) { do_exit(find_task(0)); }
