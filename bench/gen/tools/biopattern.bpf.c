/* SPDX-License-Identifier: GPL-2.0-or-later */
/* biopattern: how sequential each disk's I/O is, from the completion
 * tracepoint's device, sector and size. */
#include "tool.h"

LICENSE_GPL;

struct pattern { u64 last_sector, sequential, random, bytes; };
HASH(disks, u32, struct pattern, 64);

SEC("tracepoint/block/block_rq_complete")
int completed(struct trace_event_raw_block_rq_complete *ctx)
{
	u32 dev = BPF_CORE_READ(ctx, dev);
	u64 sector = BPF_CORE_READ(ctx, sector);
	u32 nr = BPF_CORE_READ(ctx, nr_sector);
	struct pattern *p = bpf_map_lookup_elem(&disks, &dev), zero = {};
	char rwbs[8];

	BPF_CORE_READ_INTO(&rwbs, ctx, rwbs);
	if (rwbs[0] == 'N')
		return 0;
	if (!p) {
		bpf_map_update_elem(&disks, &dev, &zero, BPF_NOEXIST);
		p = bpf_map_lookup_elem(&disks, &dev);
		if (!p)
			return 0;
	}
	if (p->last_sector == sector)
		__sync_fetch_and_add(&p->sequential, 1);
	else
		__sync_fetch_and_add(&p->random, 1);
	__sync_fetch_and_add(&p->bytes, (u64)nr * 512);
	p->last_sector = sector + nr;
	return 0;
}
