/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cpusample: on-CPU sampling by task, cgroup and namespace, with the task's
 * scheduling counters (runtime, switches, priority, policy). */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct cpu_sample {
	struct task_id id;
	u64 runtime_ns, vruntime, wait_sum;
	u64 nvcsw, nivcsw;
	int prio, policy, cpu, kstack;
};

HASH(counts, struct cpu_sample, u64, 16384);
struct sched_statistics___v4 { u64 wait_sum; } __pai;
struct sched_entity___v4 { struct sched_statistics___v4 statistics; } __pai;
struct task_struct___v516 { struct sched_statistics___v4 stats; } __pai;

SEC("perf_event")
int sampled(struct bpf_perf_event_data *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct task_struct___v516 *n = (void *)t;
	struct cpu_sample s = {};
	u64 one = 1, *c;

	task_ids(t, &s.id);
	if (IGNORED(s.id.tgid))
		return 0;
	s.runtime_ns = BPF_CORE_READ(t, se.sum_exec_runtime);
	s.vruntime = BPF_CORE_READ(t, se.vruntime);
	if (bpf_core_field_exists(n->stats))
		s.wait_sum = BPF_CORE_READ(n, stats.wait_sum);
	else
		s.wait_sum = BPF_CORE_READ((struct sched_entity___v4 *)&t->se, statistics.wait_sum);
	s.nvcsw = BPF_CORE_READ(t, nvcsw);
	s.nivcsw = BPF_CORE_READ(t, nivcsw);
	s.prio = BPF_CORE_READ(t, prio);
	s.policy = BPF_CORE_READ(t, policy);
	s.cpu = bpf_get_smp_processor_id();
	c = bpf_map_lookup_elem(&counts, &s);
	if (c)
		__sync_fetch_and_add(c, 1);
	else
		bpf_map_update_elem(&counts, &s, &one, BPF_NOEXIST);
	return 0;
}
