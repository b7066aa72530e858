/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fsyncslow: fsync and fdatasync calls slower than a threshold, with the
 * file, its size and how many pages it has dirty. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct event { struct task_id task; struct file_id file; u64 ns, nrpages; int datasync; char mnt[32]; };
HASH(started, u32, u64, 10240);
RINGBUF(events);

SEC("fentry/vfs_fsync_range")
int BPF_PROG(sync_enter, struct file *f)
{
	u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();
	u32 tid = id;

	if (!IGNORED(id >> 32))
		bpf_map_update_elem(&started, &tid, &now, BPF_ANY);
	return 0;
}

SEC("fexit/vfs_fsync_range")
int BPF_PROG(sync_exit, struct file *f, loff_t start, loff_t end, int datasync)
{
	u32 tid = bpf_get_current_pid_tgid();
	u64 *ts = bpf_map_lookup_elem(&started, &tid), d;
	struct event *e;

	if (!ts)
		return 0;
	d = bpf_ktime_get_ns() - *ts;
	bpf_map_delete_elem(&started, &tid);
	if (d < min_ns)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	current_ids(&e->task);
	file_ids(f, &e->file);
	e->ns = d;
	e->datasync = datasync;
	e->nrpages = f->f_mapping->nrpages;
	bpf_probe_read_kernel_str(e->mnt, sizeof(e->mnt), file_mountpoint(f));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
