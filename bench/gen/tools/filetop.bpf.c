/* SPDX-License-Identifier: GPL-2.0-or-later */
/* filetop: the busiest files by reads and writes, keyed by device and inode,
 * with name, parent directory and file type. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct ft_key { u64 ino; u32 dev, tgid; };
struct ft_val { u64 reads, writes, rbytes, wbytes; char kind; char name[32], dir[32]; char comm[COMM_LEN]; };
HASH(files, struct ft_key, struct ft_val, 10240);

static __always_inline int account(struct file *f, size_t count, bool write)
{
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	u32 mode = BPF_CORE_READ(d, d_inode, i_mode);
	struct ft_key k = { BPF_CORE_READ(d, d_inode, i_ino), BPF_CORE_READ(d, d_sb, s_dev), tgid };
	struct ft_val *v, zero = {};

	if (IGNORED(tgid))
		return 0;
	v = bpf_map_lookup_elem(&files, &k);
	if (!v) {
		zero.kind = (mode & 0170000) == 0100000 ? 'R' : (mode & 0170000) == 0140000 ? 'S' : 'O';
		BPF_CORE_READ_STR_INTO(&zero.name, d, d_name.name);
		BPF_CORE_READ_STR_INTO(&zero.dir, d, d_parent, d_name.name);
		bpf_get_current_comm(zero.comm, sizeof(zero.comm));
		bpf_map_update_elem(&files, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&files, &k);
		if (!v)
			return 0;
	}
	if (write) {
		__sync_fetch_and_add(&v->writes, 1);
		__sync_fetch_and_add(&v->wbytes, count);
	} else {
		__sync_fetch_and_add(&v->reads, 1);
		__sync_fetch_and_add(&v->rbytes, count);
	}
	return 0;
}

SEC("kprobe/vfs_read")
int BPF_KPROBE(reading, struct file *f, char *buf, size_t count) { return account(f, count, false); }

SEC("kprobe/vfs_write")
int BPF_KPROBE(writing, struct file *f, const char *buf, size_t count) { return account(f, count, true); }
