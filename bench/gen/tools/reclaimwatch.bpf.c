/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reclaimwatch: direct reclaim stalls, per process and memory cgroup, with
 * pages reclaimed and the allocation order that caused them. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct stall { u64 ts; int order; u32 gfp; };
struct event { struct task_id task; u64 ns, reclaimed, rss; int order; u32 gfp; };
HASH(stalls, u32, struct stall, 10240);
RINGBUF(events);

SEC("tracepoint/vmscan/mm_vmscan_direct_reclaim_begin")
int begin(struct trace_event_raw_mm_vmscan_direct_reclaim_begin_template *ctx)
{
	u32 tid = bpf_get_current_pid_tgid();
	struct stall s = { bpf_ktime_get_ns(), BPF_CORE_READ(ctx, order), BPF_CORE_READ(ctx, gfp_flags) };

	bpf_map_update_elem(&stalls, &tid, &s, BPF_ANY);
	return 0;
}

SEC("tracepoint/vmscan/mm_vmscan_direct_reclaim_end")
int end(struct trace_event_raw_mm_vmscan_direct_reclaim_end_template *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	u32 tid = bpf_get_current_pid_tgid();
	struct stall *s = bpf_map_lookup_elem(&stalls, &tid);
	struct event *e;

	if (!s)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		task_ids(t, &e->task);
		e->ns = bpf_ktime_get_ns() - s->ts;
		e->order = s->order;
		e->gfp = s->gfp;
		e->reclaimed = BPF_CORE_READ(ctx, nr_reclaimed);
		e->rss = mm_rss_pages(BPF_CORE_READ(t, mm));
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&stalls, &tid);
	return 0;
}
