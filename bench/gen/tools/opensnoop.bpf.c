/* SPDX-License-Identifier: GPL-2.0-or-later */
/* opensnoop: file opens, the flags asked for, the result, and what file the
 * new descriptor points at (through the task's descriptor table). */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct args { const char *path; int flags; };
struct event {
	struct task_id task;
	struct file_id file;
	int fd, flags;
	char path[PATH_LEN];
};

HASH(opening, u32, struct args, 10240);
PERFBUF(events);

static __always_inline int enter(u64 path, u64 flags)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = id;
	struct args a = { (const char *)path, (int)flags };

	if (!IGNORED(id >> 32))
		bpf_map_update_elem(&opening, &tid, &a, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_open")
int open_enter(struct trace_event_raw_sys_enter *ctx)
{
	return enter(BPF_CORE_READ(ctx, args[0]), BPF_CORE_READ(ctx, args[1]));
}

SEC("tracepoint/syscalls/sys_enter_openat")
int openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	return enter(BPF_CORE_READ(ctx, args[1]), BPF_CORE_READ(ctx, args[2]));
}

static __always_inline int leave(void *ctx, long ret)
{
	u32 tid = bpf_get_current_pid_tgid();
	struct args *a = bpf_map_lookup_elem(&opening, &tid);
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct event e = {};

	if (!a)
		return 0;
	task_ids(t, &e.task);
	e.fd = ret;
	e.flags = a->flags;
	bpf_probe_read_user_str(e.path, sizeof(e.path), a->path);
	if (ret >= 0) {
		struct file **fds = BPF_CORE_READ(t, files, fdt, fd);
		struct file *f = NULL;

		bpf_probe_read_kernel(&f, sizeof(f), &fds[ret & 0xffff]);
		if (f)
			file_ids(f, &e.file);
	}
	bpf_map_delete_elem(&opening, &tid);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_open")
int open_exit(struct trace_event_raw_sys_exit *ctx) { return leave(ctx, BPF_CORE_READ(ctx, ret)); }

SEC("tracepoint/syscalls/sys_exit_openat")
int openat_exit(struct trace_event_raw_sys_exit *ctx) { return leave(ctx, BPF_CORE_READ(ctx, ret)); }
