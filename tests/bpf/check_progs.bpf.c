/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Three programs for `btfctl check`: on a kernel without task_struct.real_parent
 * read_parent fails to load (its relocation is poisoned), read_pid still loads,
 * and has_parent loads too (field_exists resolves to 0). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";
long results[4];

SEC("tracepoint/syscalls/sys_enter_execve")
int read_parent(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	results[0] = BPF_CORE_READ(t, real_parent, tgid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int read_pid(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	results[1] = BPF_CORE_READ(t, pid);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int has_parent(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	results[2] = bpf_core_field_exists(t->real_parent);
	return 0;
}
