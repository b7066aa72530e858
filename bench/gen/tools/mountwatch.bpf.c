/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mountwatch: mounts and unmounts, their source, target, file system type
 * and flags, and the mount namespace they happen in. */
#include "tool.h"

LICENSE_GPL;

struct event { struct task_id task; u64 flags; int ret, op; char source[PATH_LEN], target[PATH_LEN], fstype[16]; };
HASH(calls, u32, struct event, 1024);
RINGBUF(events);

SEC("tracepoint/syscalls/sys_enter_mount")
int mount_enter(struct trace_event_raw_sys_enter *ctx)
{
	u32 tid = bpf_get_current_pid_tgid();
	struct event e = { .op = 0, .flags = BPF_CORE_READ(ctx, args[3]) };

	current_ids(&e.task);
	bpf_probe_read_user_str(e.source, sizeof(e.source), (void *)BPF_CORE_READ(ctx, args[0]));
	bpf_probe_read_user_str(e.target, sizeof(e.target), (void *)BPF_CORE_READ(ctx, args[1]));
	bpf_probe_read_user_str(e.fstype, sizeof(e.fstype), (void *)BPF_CORE_READ(ctx, args[2]));
	bpf_map_update_elem(&calls, &tid, &e, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_umount")
int umount_enter(struct trace_event_raw_sys_enter *ctx)
{
	u32 tid = bpf_get_current_pid_tgid();
	struct event e = { .op = 1, .flags = BPF_CORE_READ(ctx, args[1]) };

	current_ids(&e.task);
	bpf_probe_read_user_str(e.target, sizeof(e.target), (void *)BPF_CORE_READ(ctx, args[0]));
	bpf_map_update_elem(&calls, &tid, &e, BPF_ANY);
	return 0;
}

static __always_inline int leave(struct trace_event_raw_sys_exit *ctx)
{
	u32 tid = bpf_get_current_pid_tgid();
	struct event *c = bpf_map_lookup_elem(&calls, &tid), *e;

	if (!c)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		__builtin_memcpy(e, c, sizeof(*e));
		e->ret = BPF_CORE_READ(ctx, ret);
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&calls, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mount")
int mount_exit(struct trace_event_raw_sys_exit *ctx) { return leave(ctx); }

SEC("tracepoint/syscalls/sys_exit_umount")
int umount_exit(struct trace_event_raw_sys_exit *ctx) { return leave(ctx); }

SEC("fexit/do_new_mount")
int BPF_PROG(new_mount, struct path *path, const char *fstype, int sb_flags, int mnt_flags, const char *name,
	     void *data, int ret)
{
	struct mount *m = container_of(path->mnt, struct mount, mnt);
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	current_ids(&e->task);
	e->op = 2;
	e->ret = ret;
	e->flags = BPF_CORE_READ(m, mnt.mnt_flags);
	BPF_CORE_READ_STR_INTO(&e->target, path, dentry, d_name.name);
	BPF_CORE_READ_STR_INTO(&e->source, m, mnt_devname);
	e->task.mntns = BPF_CORE_READ(m, mnt_ns, ns.inum);
	bpf_probe_read_kernel_str(e->fstype, sizeof(e->fstype), fstype);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
