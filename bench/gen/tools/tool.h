/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every bench tool includes: the fixed vmlinux.h (dumped from one of the
 * repo's kernels at bench time), libbpf's headers, and the CO-RE readers that
 * tracing tools share. The readers are inlined into each program, so every
 * program carries its own relocations, as in real tools. Fields that moved or
 * were renamed between 4.18 and 6.x are read through ___flavour structs behind
 * bpf_core_field_exists()/bpf_core_type_exists() guards. */
#ifndef BENCH_TOOL_H
#define BENCH_TOOL_H
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#define COMM_LEN 16
#define PATH_LEN 64
#define __pai __attribute__((preserve_access_index))

/* Renamed or moved fields, newer and older layouts. */
struct task_struct___v514 { unsigned int __state; } __pai;
struct task_struct___v4 { long state; } __pai;
struct request___v4 { struct gendisk *rq_disk; } __pai;
struct request_queue___v515 { struct gendisk *disk; } __pai;
struct bio___v512 { struct block_device *bi_bdev; } __pai;
struct bio___v4 { struct gendisk *bi_disk; u8 bi_partno; } __pai;
union kernfs_node_id___v4 { struct { u32 ino; u32 generation; }; u64 id; } __pai;
struct kernfs_node___v4 { union kernfs_node_id___v4 id; } __pai;
struct kernfs_node___v55 { u64 id; } __pai;
struct folio___v516 { unsigned long flags; struct address_space *mapping; unsigned long index; } __pai;
struct mm_struct___v62 { struct percpu_counter rss_stat[4]; } __pai;
struct sock___v4 { unsigned int sk_padding : 1, sk_kern_sock : 1, sk_no_check_tx : 1,
	sk_no_check_rx : 1, sk_userlocks : 4, sk_protocol : 8, sk_type : 16; } __pai;
enum req_op___v60 { REQ_OP_READ___v60 = 0, REQ_OP_WRITE___v60 = 1 };

struct task_id {
	u32 pid, tgid, ppid, uid, gid;
	u64 start_ns, cgroup, mntns, pidns;
	char comm[COMM_LEN];
};

static __always_inline long task_state(struct task_struct *t)
{
	struct task_struct___v514 *n = (void *)t;

	if (bpf_core_field_exists(n->__state))
		return BPF_CORE_READ(n, __state);
	return BPF_CORE_READ((struct task_struct___v4 *)t, state);
}

static __always_inline u64 kn_id(struct kernfs_node *kn)
{
	if (bpf_core_type_exists(union kernfs_node_id))
		return BPF_CORE_READ((struct kernfs_node___v4 *)kn, id.id);
	return BPF_CORE_READ((struct kernfs_node___v55 *)kn, id);
}

static __always_inline u64 task_cgroup_id(struct task_struct *t)
{
	return kn_id(BPF_CORE_READ(t, cgroups, dfl_cgrp, kn));
}

static __always_inline void task_ids(struct task_struct *t, struct task_id *id)
{
	id->pid = BPF_CORE_READ(t, pid);
	id->tgid = BPF_CORE_READ(t, tgid);
	id->ppid = BPF_CORE_READ(t, real_parent, tgid);
	id->uid = BPF_CORE_READ(t, real_cred, uid.val);
	id->gid = BPF_CORE_READ(t, real_cred, gid.val);
	id->start_ns = BPF_CORE_READ(t, start_time);
	id->cgroup = task_cgroup_id(t);
	id->mntns = BPF_CORE_READ(t, nsproxy, mnt_ns, ns.inum);
	id->pidns = BPF_CORE_READ(t, nsproxy, pid_ns_for_children, ns.inum);
	BPF_CORE_READ_STR_INTO(&id->comm, t, comm);
}

static __always_inline void current_ids(struct task_id *id)
{
	task_ids((struct task_struct *)bpf_get_current_task(), id);
}

static __always_inline u32 task_pidns_pid(struct task_struct *t)
{
	struct pid *pid = BPF_CORE_READ(t, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);

	return BPF_CORE_READ(pid, numbers[level].nr);
}

static __always_inline u64 mm_rss_pages(struct mm_struct *mm)
{
	struct mm_struct___v62 *n = (void *)mm;

	if (bpf_core_field_exists(n->rss_stat))
		return BPF_CORE_READ(n, rss_stat[0].count) + BPF_CORE_READ(n, rss_stat[1].count);
	return BPF_CORE_READ(mm, rss_stat.count[0].counter) + BPF_CORE_READ(mm, rss_stat.count[1].counter);
}

/* The last components of a dentry's path, leaf first, NUL-separated. */
static __always_inline void dentry_path(struct dentry *d, char *buf, int len)
{
	int off = 0;

#pragma unroll
	for (int i = 0; i < 4; i++) {
		const unsigned char *name = BPF_CORE_READ(d, d_name.name);
		struct dentry *parent = BPF_CORE_READ(d, d_parent);
		int n;

		if (off >= len - 16)
			break;
		n = bpf_probe_read_kernel_str(buf + (off & (PATH_LEN - 1)), 16, name);
		if (n <= 0 || parent == d)
			break;
		off += n;
		d = parent;
	}
}

struct file_id {
	u64 ino, size;
	u32 dev, mode, flags, fstype;
	char name[32];
};

static __always_inline void file_ids(struct file *f, struct file_id *id)
{
	struct inode *inode = BPF_CORE_READ(f, f_inode);

	id->ino = BPF_CORE_READ(inode, i_ino);
	id->size = BPF_CORE_READ(inode, i_size);
	id->mode = BPF_CORE_READ(inode, i_mode);
	id->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	id->fstype = BPF_CORE_READ(inode, i_sb, s_magic);
	id->flags = BPF_CORE_READ(f, f_flags);
	BPF_CORE_READ_STR_INTO(&id->name, f, f_path.dentry, d_name.name);
}

static __always_inline const char *file_fstype(struct file *f)
{
	return BPF_CORE_READ(f, f_path.dentry, d_sb, s_type, name);
}

/* The mount point a file lives under (struct mount wraps the vfsmount). */
static __always_inline const unsigned char *file_mountpoint(struct file *f)
{
	struct vfsmount *vm = BPF_CORE_READ(f, f_path.mnt);
	struct mount *m = container_of(vm, struct mount, mnt);

	return BPF_CORE_READ(m, mnt_mountpoint, d_name.name);
}

struct sock_id {
	u32 saddr[4], daddr[4];
	u16 sport, dport, family, proto;
	u32 netns, state;
};

static __always_inline u16 sock_protocol(struct sock *sk)
{
	if (bpf_core_field_size(sk->sk_protocol) == 2)
		return BPF_CORE_READ(sk, sk_protocol);
	return BPF_CORE_READ_BITFIELD_PROBED((struct sock___v4 *)sk, sk_protocol);
}

static __always_inline void sock_ids(struct sock *sk, struct sock_id *id)
{
	id->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	id->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	id->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	id->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	id->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	id->proto = sock_protocol(sk);
	if (id->family == 10) {
		BPF_CORE_READ_INTO(&id->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32);
		BPF_CORE_READ_INTO(&id->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr32);
	} else {
		id->saddr[0] = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		id->daddr[0] = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	}
}

struct tcp_stats {
	u32 srtt_us, mdev_us, snd_cwnd, ssthresh, packets_out, retrans_out;
	u32 total_retrans, rcv_wnd, snd_wnd, lost_out;
	u64 bytes_acked, bytes_received;
};

static __always_inline void tcp_stats(struct sock *sk, struct tcp_stats *s)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;

	s->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	s->mdev_us = BPF_CORE_READ(tp, mdev_us) >> 2;
	s->snd_cwnd = BPF_CORE_READ(tp, snd_cwnd);
	s->ssthresh = BPF_CORE_READ(tp, snd_ssthresh);
	s->packets_out = BPF_CORE_READ(tp, packets_out);
	s->retrans_out = BPF_CORE_READ(tp, retrans_out);
	s->total_retrans = BPF_CORE_READ(tp, total_retrans);
	s->rcv_wnd = BPF_CORE_READ(tp, rcv_wnd);
	s->snd_wnd = BPF_CORE_READ(tp, snd_wnd);
	s->lost_out = BPF_CORE_READ(tp, lost_out);
	s->bytes_acked = BPF_CORE_READ(tp, bytes_acked);
	s->bytes_received = BPF_CORE_READ(tp, bytes_received);
}

struct disk_id {
	u32 dev, major, minor;
	char name[32];
};

static __always_inline struct gendisk *rq_gendisk(struct request *rq)
{
	struct request___v4 *o = (void *)rq;
	struct request_queue___v515 *q;

	if (bpf_core_field_exists(o->rq_disk))
		return BPF_CORE_READ(o, rq_disk);
	q = (void *)BPF_CORE_READ(rq, q);
	return BPF_CORE_READ(q, disk);
}

static __always_inline struct gendisk *bio_gendisk(struct bio *bio)
{
	struct bio___v512 *n = (void *)bio;

	if (bpf_core_field_exists(n->bi_bdev))
		return BPF_CORE_READ(n, bi_bdev, bd_disk);
	return BPF_CORE_READ((struct bio___v4 *)bio, bi_disk);
}

static __always_inline void disk_ids(struct gendisk *disk, struct disk_id *id)
{
	id->major = BPF_CORE_READ(disk, major);
	id->minor = BPF_CORE_READ(disk, first_minor);
	id->dev = id->major << 20 | id->minor;
	BPF_CORE_READ_STR_INTO(&id->name, disk, disk_name);
}

static __always_inline bool rq_is_write(struct request *rq)
{
	u32 op = BPF_CORE_READ(rq, cmd_flags) & 0xff;

	if (bpf_core_enum_value_exists(enum req_opf, REQ_OP_WRITE))
		return op == bpf_core_enum_value(enum req_opf, REQ_OP_WRITE);
	return op == bpf_core_enum_value(enum req_op___v60, REQ_OP_WRITE___v60);
}

/* A page's mapping and index, through struct folio where the kernel has it. */
static __always_inline struct address_space *page_mapping_of(struct page *p, unsigned long *index)
{
	if (bpf_core_type_exists(struct folio___v516)) {
		struct folio___v516 *f = (void *)p;
		*index = BPF_CORE_READ(f, index);
		return BPF_CORE_READ(f, mapping);
	}
	*index = BPF_CORE_READ(p, index);
	return BPF_CORE_READ(p, mapping);
}

static __always_inline u32 skb_ifindex(struct sk_buff *skb)
{
	return BPF_CORE_READ(skb, dev, ifindex);
}

/* The options every tool takes (set by the loader in .rodata). */
#define TOOL_FILTERS const volatile u32 target_tgid = 0; const volatile u64 min_ns = 0
#define IGNORED(tgid) (target_tgid && (tgid) != target_tgid)
#define LICENSE_GPL char LICENSE[] SEC("license") = "GPL"

#define RINGBUF(name) struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 1 << 18); } name SEC(".maps")
#define PERFBUF(name) struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, sizeof(u32)); \
	__uint(value_size, sizeof(u32)); } name SEC(".maps")
#define HASH(name, k, v, n) struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, n); __type(key, k); \
	__type(value, v); } name SEC(".maps")
#define HIST_SLOTS 27
struct hist { u32 slots[HIST_SLOTS]; };

static __always_inline u32 log2l(u64 v)
{
	u32 r = 0;
#pragma unroll
	for (int i = 32; i > 0; i >>= 1)
		if (v >= (1ULL << i)) { v >>= i; r += i; }
	return r < HIST_SLOTS ? r : HIST_SLOTS - 1;
}

static __always_inline void hist_add(struct hist *h, u64 v)
{
	u32 s = log2l(v);
	if (s < HIST_SLOTS)
		__sync_fetch_and_add(&h->slots[s], 1);
}
#endif
