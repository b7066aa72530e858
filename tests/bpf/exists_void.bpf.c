/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pgtable_t is a pointer to struct page; a field read of vm_fault.prealloc_pte
 * makes bpftool keep it as void *, so type_exists(void *pgtable_t___x) passes on
 * its output but not on the full BTF. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";
typedef void *pgtable_t___x;
long results[4];

SEC("tracepoint/syscalls/sys_enter_execve")
int exists_void(void *ctx)
{
	struct vm_fault *vmf = (void *)bpf_get_current_task();

	results[0] = (long)BPF_CORE_READ(vmf, prealloc_pte);
	results[1] = bpf_core_type_exists(pgtable_t___x);
	return 0;
}
