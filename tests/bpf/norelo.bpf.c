/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An object without any CO-RE relocation: minimizes to an empty, valid BTF. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";
int counter;

SEC("tracepoint/syscalls/sys_enter_execve")
int count_execve(void *ctx)
{
	__sync_fetch_and_add(&counter, 1);
	return 0;
}
