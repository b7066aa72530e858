/* SPDX-License-Identifier: GPL-2.0-or-later */
/* execwatch: every exec with its parent, credentials, cgroup and namespaces,
 * and its exit status and lifetime. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct event {
	struct task_id id;
	u64 duration_ns;
	int exit_code;
	u32 loginuid;
	char filename[PATH_LEN];
};

RINGBUF(events);
HASH(started, u32, u64, 10240);

SEC("tracepoint/sched/sched_process_exec")
int exec_done(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	unsigned int off = BPF_CORE_READ(ctx, __data_loc_filename) & 0xffff;
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	u64 now = bpf_ktime_get_ns();
	u32 pid = BPF_CORE_READ(ctx, pid);

	if (!e)
		return 0;
	task_ids(t, &e->id);
	if (bpf_core_field_exists(t->loginuid))
		e->loginuid = BPF_CORE_READ(t, loginuid.val);
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), (void *)ctx + off);
	bpf_map_update_elem(&started, &pid, &now, BPF_ANY);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(exit_seen, struct task_struct *t)
{
	u32 pid = t->pid;
	u64 *start = bpf_map_lookup_elem(&started, &pid);
	struct event *e;

	if (!start || t->pid != t->tgid)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	task_ids(t, &e->id);
	e->duration_ns = bpf_ktime_get_ns() - *start;
	e->exit_code = t->exit_code >> 8;
	bpf_map_delete_elem(&started, &pid);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
