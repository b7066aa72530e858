/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vfsstat: reads, writes, opens and fsyncs per file system type and mount,
 * with bytes moved. */
#include "tool.h"

LICENSE_GPL;

struct fs_key { u32 dev; u32 magic; char fstype[16]; };
struct fs_val { u64 reads, writes, rbytes, wbytes, opens, fsyncs; };
HASH(by_fs, struct fs_key, struct fs_val, 256);

static __always_inline struct fs_val *val_of(struct file *f)
{
	static const struct fs_val zero;
	struct fs_key k = {};
	struct fs_val *v;

	k.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	k.magic = BPF_CORE_READ(f, f_inode, i_sb, s_magic);
	bpf_probe_read_kernel_str(k.fstype, sizeof(k.fstype), file_fstype(f));
	v = bpf_map_lookup_elem(&by_fs, &k);
	if (v)
		return v;
	bpf_map_update_elem(&by_fs, &k, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&by_fs, &k);
}

SEC("fexit/vfs_read")
int BPF_PROG(read_done, struct file *f, char *buf, size_t n, loff_t *pos, ssize_t ret)
{
	struct fs_val *v = val_of(f);

	if (v && ret > 0) {
		__sync_fetch_and_add(&v->reads, 1);
		__sync_fetch_and_add(&v->rbytes, ret);
	}
	return 0;
}

SEC("fexit/vfs_write")
int BPF_PROG(write_done, struct file *f, const char *buf, size_t n, loff_t *pos, ssize_t ret)
{
	struct fs_val *v = val_of(f);

	if (v && ret > 0) {
		__sync_fetch_and_add(&v->writes, 1);
		__sync_fetch_and_add(&v->wbytes, ret);
	}
	return 0;
}

SEC("fentry/vfs_open")
int BPF_PROG(opened, const struct path *path, struct file *f)
{
	struct fs_val *v = val_of(f);

	if (v)
		__sync_fetch_and_add(&v->opens, 1);
	return 0;
}

SEC("kprobe/vfs_fsync_range")
int BPF_KPROBE(fsynced, struct file *f)
{
	struct fs_val *v = val_of(f);

	if (v)
		__sync_fetch_and_add(&v->fsyncs, 1);
	return 0;
}
