/* SPDX-License-Identifier: GPL-2.0-or-later */
/* biolatency: block I/O latency histograms per disk and direction, from
 * insert (queued) or issue to completion. */
#include "tool.h"

LICENSE_GPL;
const volatile bool from_insert = false;

struct bl_key { u32 dev; bool write; };
HASH(starts, u64, u64, 10240);
HASH(hists, struct bl_key, struct hist, 256);

static __always_inline int stamp(struct request *rq)
{
	u64 key = (u64)rq, now = bpf_ktime_get_ns();

	bpf_map_update_elem(&starts, &key, &now, BPF_ANY);
	return 0;
}

SEC("tp_btf/block_rq_insert")
int BPF_PROG(rq_insert, struct request *rq) { return from_insert ? stamp(rq) : 0; }

SEC("tp_btf/block_rq_issue")
int BPF_PROG(rq_issue, struct request *rq) { return from_insert ? 0 : stamp(rq); }

SEC("tp_btf/block_rq_complete")
int BPF_PROG(rq_complete, struct request *rq, int error, unsigned int nr_bytes)
{
	static const struct hist zero;
	u64 key = (u64)rq, *ts = bpf_map_lookup_elem(&starts, &key);
	struct gendisk *disk = rq_gendisk(rq);
	struct bl_key k = { .write = rq_is_write(rq) };
	struct hist *h;

	if (!ts)
		return 0;
	k.dev = BPF_CORE_READ(disk, major) << 20 | BPF_CORE_READ(disk, first_minor);
	h = bpf_map_lookup_elem(&hists, &k);
	if (!h) {
		bpf_map_update_elem(&hists, &k, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &k);
	}
	if (h)
		hist_add(h, (bpf_ktime_get_ns() - *ts) / 1000);
	bpf_map_delete_elem(&starts, &key);
	return 0;
}
