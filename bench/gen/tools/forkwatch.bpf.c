/* SPDX-License-Identifier: GPL-2.0-or-later */
/* forkwatch: new processes and threads, who made them, and in which
 * namespaces and cgroup they start. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct event {
	struct task_id parent, child;
	u64 clone_flags;
	u32 nr_threads, pidns_pid;
	bool thread;
};

PERFBUF(events);

SEC("tp_btf/sched_process_fork")
int BPF_PROG(fork_seen, struct task_struct *parent, struct task_struct *child)
{
	struct event e = {};

	if (IGNORED(parent->tgid))
		return 0;
	task_ids(parent, &e.parent);
	task_ids(child, &e.child);
	e.thread = child->tgid == parent->tgid;
	e.nr_threads = BPF_CORE_READ(parent, signal, nr_threads);
	e.pidns_pid = task_pidns_pid(child);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

SEC("tracepoint/task/task_newtask")
int newtask(struct trace_event_raw_task_newtask *ctx)
{
	struct event e = {};

	current_ids(&e.parent);
	e.child.pid = BPF_CORE_READ(ctx, pid);
	e.clone_flags = BPF_CORE_READ(ctx, clone_flags);
	BPF_CORE_READ_STR_INTO(&e.child.comm, ctx, comm);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}
