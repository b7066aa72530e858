/* SPDX-License-Identifier: GPL-2.0-or-later */
/* runqwait: how long runnable tasks wait for a CPU, as a histogram per
 * cgroup; a preempted task (still runnable at switch) starts waiting again. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

HASH(enqueued, u32, u64, 10240);
HASH(hists, u64, struct hist, 1024);

static __always_inline void enqueue(struct task_struct *t)
{
	u32 pid = BPF_CORE_READ(t, pid);
	u64 now = bpf_ktime_get_ns();

	if (!pid || IGNORED(BPF_CORE_READ(t, tgid)))
		return;
	bpf_map_update_elem(&enqueued, &pid, &now, BPF_ANY);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(wakeup, struct task_struct *t)
{
	enqueue(t);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(wakeup_new, struct task_struct *t)
{
	enqueue(t);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(switched, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	static const struct hist zero;
	u32 pid = next->pid;
	u64 *ts, cg;
	struct hist *h;

	if (task_state(prev) == 0)
		enqueue(prev);
	ts = bpf_map_lookup_elem(&enqueued, &pid);
	if (!ts)
		return 0;
	cg = task_cgroup_id(next);
	h = bpf_map_lookup_elem(&hists, &cg);
	if (!h) {
		bpf_map_update_elem(&hists, &cg, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &cg);
	}
	if (h)
		hist_add(h, (bpf_ktime_get_ns() - *ts) / 1000);
	bpf_map_delete_elem(&enqueued, &pid);
	return 0;
}
