/* SPDX-License-Identifier: GPL-2.0-or-later */
/* migratewatch: tasks moved between CPUs, with their allowed CPU mask size
 * and NUMA preference. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct task_struct___v53 { const cpumask_t *cpus_ptr; int nr_cpus_allowed; } __pai;
struct task_struct___v4m { cpumask_t cpus_allowed; } __pai;

struct event {
	u32 pid, orig_cpu, dest_cpu, nr_allowed;
	u64 mask0;
	int numa_preferred;
	char comm[COMM_LEN];
};

RINGBUF(events);

SEC("tracepoint/sched/sched_migrate_task")
int migrated(struct trace_event_raw_sched_migrate_task *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct task_struct___v53 *n = (void *)t;
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	e->pid = BPF_CORE_READ(ctx, pid);
	e->orig_cpu = BPF_CORE_READ(ctx, orig_cpu);
	e->dest_cpu = BPF_CORE_READ(ctx, dest_cpu);
	BPF_CORE_READ_STR_INTO(&e->comm, ctx, comm);
	if (bpf_core_field_exists(n->cpus_ptr)) {
		e->mask0 = BPF_CORE_READ(n, cpus_ptr, bits[0]);
		e->nr_allowed = BPF_CORE_READ(n, nr_cpus_allowed);
	} else {
		e->mask0 = BPF_CORE_READ((struct task_struct___v4m *)t, cpus_allowed.bits[0]);
	}
	if (bpf_core_field_exists(t->numa_preferred_nid))
		e->numa_preferred = BPF_CORE_READ(t, numa_preferred_nid);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
