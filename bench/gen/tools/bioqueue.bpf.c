/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bioqueue: queue depth and request sizes per disk and hardware queue, with
 * the queue's limits and scheduler tags. */
#include "tool.h"

LICENSE_GPL;

struct q_val { u64 inflight_max, samples, depth_sum, max_sectors, nr_requests, hw_queues; struct disk_id disk; };
HASH(queues, u64, struct q_val, 256);

SEC("tp_btf/block_rq_issue")
int BPF_PROG(issued, struct request *rq)
{
	struct request_queue *q = rq->q;
	struct blk_mq_hw_ctx *hctx = rq->mq_hctx;
	u64 key = (u64)q;
	struct q_val *v = bpf_map_lookup_elem(&queues, &key), zero = {};
	u64 depth;

	if (!v) {
		disk_ids(rq_gendisk(rq), &zero.disk);
		zero.max_sectors = BPF_CORE_READ(q, limits.max_sectors);
		zero.nr_requests = BPF_CORE_READ(q, nr_requests);
		zero.hw_queues = BPF_CORE_READ(q, nr_hw_queues);
		bpf_map_update_elem(&queues, &key, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&queues, &key);
		if (!v)
			return 0;
	}
	depth = BPF_CORE_READ(hctx, nr_active.counter);
	if (bpf_core_field_exists(hctx->queued))
		depth += BPF_CORE_READ(hctx, queued);
	if (depth > v->inflight_max)
		v->inflight_max = depth;
	v->samples++;
	v->depth_sum += depth;
	return 0;
}
