/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The README's sample object: reads the parent's tgid through CO-RE. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_execve")
int sample_execve(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	int ppid = BPF_CORE_READ(t, real_parent, tgid);

	bpf_printk("execve by child of %d", ppid);
	return 0;
}
