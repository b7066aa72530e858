/* SPDX-License-Identifier: GPL-2.0-or-later */
/* filelife: short-lived files, from creation to unlink, with who created and
 * who removed them and the directory they lived in. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct event { struct task_id task; u64 age_ns, size; u32 created_by; char path[PATH_LEN]; };
struct birth { u64 ts; u32 tgid; };
HASH(births, u64, struct birth, 8192);
RINGBUF(events);

static __always_inline int created(struct dentry *d)
{
	u64 key = (u64)d;
	struct birth b = { bpf_ktime_get_ns(), bpf_get_current_pid_tgid() >> 32 };

	if (!IGNORED(b.tgid))
		bpf_map_update_elem(&births, &key, &b, BPF_ANY);
	return 0;
}

SEC("kprobe/vfs_create")
int BPF_KPROBE(create, void *a, void *b, struct dentry *d)
{
	/* 6.3 put a mnt_idmap first (as 5.12 did a user namespace). */
	return created(bpf_core_type_exists(struct mnt_idmap) ? d : (struct dentry *)b);
}

SEC("fentry/security_inode_create")
int BPF_PROG(sec_create, struct inode *dir, struct dentry *d) { return created(d); }

SEC("kprobe/vfs_unlink")
int BPF_KPROBE(unlink, void *a, void *b, void *c)
{
	struct dentry *d = bpf_core_type_exists(struct mnt_idmap) ? c : b;
	u64 key = (u64)d;
	struct birth *b0 = bpf_map_lookup_elem(&births, &key);
	struct event *e;

	if (!b0)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		current_ids(&e->task);
		e->age_ns = bpf_ktime_get_ns() - b0->ts;
		e->created_by = b0->tgid;
		e->size = BPF_CORE_READ(d, d_inode, i_size);
		dentry_path(d, e->path, sizeof(e->path));
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&births, &key);
	return 0;
}
