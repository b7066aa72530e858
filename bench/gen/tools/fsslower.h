/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The *slower tools: one file system's reads, writes, opens and fsyncs slower
 * than a threshold, with the file, offset and size. The including file names
 * the file system's functions: FS_READ, FS_WRITE, FS_OPEN, FS_SYNC. */
#ifndef BENCH_FSSLOWER_H
#define BENCH_FSSLOWER_H
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct op { u64 ts, pos, size; struct file *file; };
struct event { struct task_id task; struct file_id file; u64 ns, pos, size; char op; };
HASH(ops, u32, struct op, 10240);
PERFBUF(events);

static __always_inline int begin(struct file *f, u64 pos, u64 size)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = id;
	struct op o = { bpf_ktime_get_ns(), pos, size, f };

	if (!IGNORED(id >> 32))
		bpf_map_update_elem(&ops, &tid, &o, BPF_ANY);
	return 0;
}

static __always_inline int finish(void *ctx, char kind)
{
	u32 tid = bpf_get_current_pid_tgid();
	struct op *o = bpf_map_lookup_elem(&ops, &tid);
	struct event e = {};

	if (!o)
		return 0;
	e.ns = bpf_ktime_get_ns() - o->ts;
	if (e.ns >= min_ns) {
		current_ids(&e.task);
		file_ids(o->file, &e.file);
		e.pos = o->pos;
		e.size = o->size;
		e.op = kind;
		bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	}
	bpf_map_delete_elem(&ops, &tid);
	return 0;
}

SEC("kprobe/" FS_READ)
int BPF_KPROBE(read_enter, struct kiocb *iocb, struct iov_iter *to)
{
	return begin(BPF_CORE_READ(iocb, ki_filp), BPF_CORE_READ(iocb, ki_pos), BPF_CORE_READ(to, count));
}

SEC("kprobe/" FS_WRITE)
int BPF_KPROBE(write_enter, struct kiocb *iocb, struct iov_iter *from)
{
	return begin(BPF_CORE_READ(iocb, ki_filp), BPF_CORE_READ(iocb, ki_pos), BPF_CORE_READ(from, count));
}

SEC("kprobe/" FS_OPEN)
int BPF_KPROBE(open_enter, struct inode *inode, struct file *f) { return begin(f, 0, BPF_CORE_READ(inode, i_size)); }

SEC("kprobe/" FS_SYNC)
int BPF_KPROBE(sync_enter, struct file *f, loff_t start, loff_t end) { return begin(f, start, end - start); }

SEC("kretprobe/" FS_READ)
int BPF_KRETPROBE(read_exit) { return finish(ctx, 'R'); }

SEC("kretprobe/" FS_WRITE)
int BPF_KRETPROBE(write_exit) { return finish(ctx, 'W'); }

SEC("kretprobe/" FS_OPEN)
int BPF_KRETPROBE(open_exit) { return finish(ctx, 'O'); }

SEC("kretprobe/" FS_SYNC)
int BPF_KRETPROBE(sync_exit) { return finish(ctx, 'S'); }
#endif
