/* SPDX-License-Identifier: GPL-2.0-or-later */
/* oomwatch: OOM kills, the victim and the task that triggered them, the
 * memory cgroup, and the victim's memory at the time. */
#include "tool.h"

LICENSE_GPL;

struct event {
	struct task_id trigger, victim;
	u64 totalpages, victim_rss, victim_vm, memcg_usage;
	int order;
	char reason[16];
};

PERFBUF(events);

SEC("kprobe/oom_kill_process")
int BPF_KPROBE(oom_kill, struct oom_control *oc, const char *message)
{
	struct task_struct *victim = BPF_CORE_READ(oc, chosen);
	struct mm_struct *mm = BPF_CORE_READ(victim, mm);
	struct event e = {};

	current_ids(&e.trigger);
	task_ids(victim, &e.victim);
	e.totalpages = BPF_CORE_READ(oc, totalpages);
	e.order = BPF_CORE_READ(oc, order);
	e.victim_rss = mm_rss_pages(mm);
	e.victim_vm = BPF_CORE_READ(mm, total_vm);
	if (BPF_CORE_READ(oc, memcg))
		e.memcg_usage = BPF_CORE_READ(oc, memcg, memory.usage.counter);
	bpf_probe_read_kernel_str(e.reason, sizeof(e.reason), message);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

SEC("tp_btf/mark_victim")
int BPF_PROG(victim_marked, int pid)
{
	struct task_id id = {};

	current_ids(&id);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &id, sizeof(id));
	return 0;
}
