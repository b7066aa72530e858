/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reads guarded by existence checks, as libbpf-tools' core_fixes.bpf.h does.
 * No kernel has task_struct___nofield's field or struct btfd_no_such_type, so
 * libbpf poisons their reads everywhere: guarded_field and guarded_type still
 * load (the check resolves to 0 and the verifier prunes the read), while
 * unguarded_field fails. get_disk is core_fixes' get_disk(): which of its
 * reads fails depends on the kernel (request.rq_disk went away in the 5.1x
 * kernels, a little after request_queue.disk came); where rq_disk exists and
 * request_queue.disk does not, the fallback sits in the branch of a check
 * that resolves to 1. The cases a rule on names alone gets wrong:
 * fallback_ternary (task_struct___fb.pid exists everywhere: its fallback is
 * poisoned and pruned, it loads), read_before_check and check_elsewhere (a
 * check that resolves to 0 about the read, which does not hold it: they fail).
 * With BTFD_GUARDED_ONLY (guarded_only.bpf.o) only the programs that load
 * everywhere are built. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";
long results[16];

struct task_struct___nofield {
	long btfd_no_such_field;
} __attribute__((preserve_access_index));

struct task_struct___fb {
	int pid;
	long btfd_no_such_field;
} __attribute__((preserve_access_index));

struct btfd_no_such_type {
	long x;
} __attribute__((preserve_access_index));

struct request_queue___x {
	void *disk;
} __attribute__((preserve_access_index));

struct request___x {
	struct request_queue___x *q;
	void *rq_disk;
} __attribute__((preserve_access_index));

SEC("tracepoint/syscalls/sys_enter_execve")
int guarded_field(void *ctx)
{
	struct task_struct___nofield *t = (void *)bpf_get_current_task();

	if (bpf_core_field_exists(t->btfd_no_such_field))
		results[0] = BPF_CORE_READ(t, btfd_no_such_field);
	return 0;
}

#ifndef BTFD_GUARDED_ONLY
SEC("tracepoint/syscalls/sys_enter_execve")
int unguarded_field(void *ctx)
{
	struct task_struct___nofield *t = (void *)bpf_get_current_task();

	results[1] = BPF_CORE_READ(t, btfd_no_such_field);
	return 0;
}
#endif

SEC("tracepoint/syscalls/sys_enter_execve")
int guarded_type(void *ctx)
{
	struct btfd_no_such_type *p = (void *)bpf_get_current_task();

	if (bpf_core_type_exists(struct btfd_no_such_type))
		results[2] = BPF_CORE_READ(p, x);
	return 0;
}

#ifndef BTFD_GUARDED_ONLY
static __always_inline void *get_disk(void *request)
{
	struct request___x *r = request;

	if (bpf_core_field_exists(r->rq_disk))
		return BPF_CORE_READ(r, rq_disk);
	return BPF_CORE_READ(r, q, disk);
}

SEC("tracepoint/syscalls/sys_exit_execve")
int get_disk_fix(void *ctx)
{
	results[3] = (long)get_disk((void *)bpf_get_current_task());
	return 0;
}
#endif

#ifndef BTFD_GUARDED_ONLY
SEC("tracepoint/syscalls/sys_exit_execve")
int fallback_ternary(void *ctx)
{
	struct task_struct___fb *t = (void *)bpf_get_current_task();

	results[4] = bpf_core_field_exists(t->pid) ? BPF_CORE_READ(t, pid) : BPF_CORE_READ(t, btfd_no_such_field);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int read_before_check(void *ctx)
{
	struct task_struct___nofield *t = (void *)bpf_get_current_task();

	results[5] = BPF_CORE_READ(t, btfd_no_such_field);
	if (bpf_core_field_exists(t->btfd_no_such_field))
		results[6] = 1;
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int check_elsewhere(void *ctx)
{
	struct task_struct___nofield *t = (void *)bpf_get_current_task();

	if (bpf_core_field_exists(t->btfd_no_such_field))
		results[7] = 1;
	if (bpf_get_prandom_u32() & 1)
		results[8] = BPF_CORE_READ(t, btfd_no_such_field);
	return 0;
}
#endif
