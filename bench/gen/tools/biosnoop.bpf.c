/* SPDX-License-Identifier: GPL-2.0-or-later */
/* biosnoop: every block request with the process that queued it, the disk,
 * sector, size, queue time and service time. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct origin { u64 insert_ns, issue_ns; u32 tgid; char comm[COMM_LEN]; };
struct event { struct origin o; struct disk_id disk; u64 sector, done_ns; u32 len, flags, tag; bool write; };
HASH(origins, u64, struct origin, 10240);
PERFBUF(events);

SEC("kprobe/blk_account_io_start")
int BPF_KPROBE(io_start, struct request *rq)
{
	u64 key = (u64)rq;
	struct origin o = { .insert_ns = bpf_ktime_get_ns(), .tgid = bpf_get_current_pid_tgid() >> 32 };

	if (IGNORED(o.tgid))
		return 0;
	bpf_get_current_comm(o.comm, sizeof(o.comm));
	bpf_map_update_elem(&origins, &key, &o, BPF_ANY);
	return 0;
}

SEC("kprobe/blk_mq_start_request")
int BPF_KPROBE(io_issue, struct request *rq)
{
	u64 key = (u64)rq;
	struct origin *o = bpf_map_lookup_elem(&origins, &key);

	if (o)
		o->issue_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(io_done, struct request *rq, int error, unsigned int nr_bytes)
{
	u64 key = (u64)rq;
	struct origin *o = bpf_map_lookup_elem(&origins, &key);
	struct event e = {};

	if (!o)
		return 0;
	e.o = *o;
	e.done_ns = bpf_ktime_get_ns();
	disk_ids(rq_gendisk(rq), &e.disk);
	e.sector = rq->__sector;
	e.len = rq->__data_len;
	e.flags = rq->cmd_flags;
	e.tag = rq->tag;
	e.write = rq_is_write(rq);
	bpf_map_delete_elem(&origins, &key);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}
