/* SPDX-License-Identifier: GPL-2.0-or-later */
/* biotop: block I/O by process and disk, summed, from bio submission to the
 * request's completion. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct bt_key { u32 tgid, dev; bool write; char comm[COMM_LEN]; };
struct bt_val { u64 bytes, ios, us; };
HASH(submitted, u64, struct bt_key, 10240);
HASH(totals, struct bt_key, struct bt_val, 4096);
HASH(started, u64, u64, 10240);

SEC("kprobe/submit_bio")
int BPF_KPROBE(submit, struct bio *bio)
{
	struct gendisk *disk = bio_gendisk(bio);
	struct bt_key k = { .tgid = bpf_get_current_pid_tgid() >> 32 };
	u64 key = (u64)bio;

	if (IGNORED(k.tgid))
		return 0;
	k.dev = BPF_CORE_READ(disk, major) << 20 | BPF_CORE_READ(disk, first_minor);
	k.write = (BPF_CORE_READ(bio, bi_opf) & 0xff) == 1;
	bpf_get_current_comm(k.comm, sizeof(k.comm));
	bpf_map_update_elem(&submitted, &key, &k, BPF_ANY);
	return 0;
}

SEC("fentry/blk_mq_start_request")
int BPF_PROG(issued, struct request *rq)
{
	u64 key = (u64)rq, now = bpf_ktime_get_ns();

	bpf_map_update_elem(&started, &key, &now, BPF_ANY);
	return 0;
}

SEC("fentry/blk_account_io_done")
int BPF_PROG(done, struct request *rq, u64 now)
{
	u64 rkey = (u64)rq, bkey = (u64)rq->bio, *ts = bpf_map_lookup_elem(&started, &rkey);
	struct bt_key *k = bpf_map_lookup_elem(&submitted, &bkey);
	struct bt_val *v, zero = {};

	if (!k || !ts)
		return 0;
	v = bpf_map_lookup_elem(&totals, k);
	if (!v) {
		bpf_map_update_elem(&totals, k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&totals, k);
		if (!v)
			return 0;
	}
	__sync_fetch_and_add(&v->bytes, rq->__data_len);
	__sync_fetch_and_add(&v->ios, 1);
	__sync_fetch_and_add(&v->us, (bpf_ktime_get_ns() - *ts) / 1000);
	bpf_map_delete_elem(&submitted, &bkey);
	bpf_map_delete_elem(&started, &rkey);
	return 0;
}
