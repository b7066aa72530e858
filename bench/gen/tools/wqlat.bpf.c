/* SPDX-License-Identifier: GPL-2.0-or-later */
/* wqlat: workqueue items, from queueing to execution to completion, by work
 * function and worker pool. */
#include "tool.h"

LICENSE_GPL;

struct wq_val { u64 queued, started; u32 cpu, req_cpu; };
HASH(works, u64, struct wq_val, 8192);
HASH(by_func, u64, struct hist, 1024);

SEC("tracepoint/workqueue/workqueue_queue_work")
int queued(struct trace_event_raw_workqueue_queue_work *ctx)
{
	u64 w = (u64)BPF_CORE_READ(ctx, work);
	struct wq_val v = { .queued = bpf_ktime_get_ns(), .cpu = BPF_CORE_READ(ctx, cpu),
			    .req_cpu = BPF_CORE_READ(ctx, req_cpu) };

	bpf_map_update_elem(&works, &w, &v, BPF_ANY);
	return 0;
}

SEC("tracepoint/workqueue/workqueue_execute_start")
int started(struct trace_event_raw_workqueue_execute_start *ctx)
{
	u64 w = (u64)BPF_CORE_READ(ctx, work);
	struct wq_val *v = bpf_map_lookup_elem(&works, &w);

	if (v)
		v->started = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/workqueue_execute_end")
int BPF_PROG(ended, struct work_struct *work)
{
	u64 w = (u64)work, fn = (u64)work->func;
	struct wq_val *v = bpf_map_lookup_elem(&works, &w);
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct worker *wk = (struct worker *)BPF_CORE_READ(t, set_child_tid);
	struct hist *h;

	if (!v)
		return 0;
	if (BPF_CORE_READ(t, flags) & 0x20)
		fn ^= (u64)BPF_CORE_READ(wk, pool, id) << 48;
	h = bpf_map_lookup_elem(&by_func, &fn);
	if (h)
		hist_add(h, (bpf_ktime_get_ns() - v->queued) / 1000);
	bpf_map_delete_elem(&works, &w);
	return 0;
}
