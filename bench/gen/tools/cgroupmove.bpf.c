/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroupmove: tasks moved between cgroups (container starts, systemd
 * slices), with the destination's path, level and hierarchy. */
#include "tool.h"

LICENSE_GPL;

struct event { struct task_id task; int root, id, level; u64 from_cgroup; char path[PATH_LEN]; };
RINGBUF(events);

SEC("tracepoint/cgroup/cgroup_attach_task")
int attached(struct trace_event_raw_cgroup_migrate *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	unsigned int off = BPF_CORE_READ(ctx, __data_loc_dst_path) & 0xffff;

	if (!e)
		return 0;
	current_ids(&e->task);
	e->root = BPF_CORE_READ(ctx, dst_root);
	e->id = BPF_CORE_READ(ctx, dst_id);
	e->level = BPF_CORE_READ(ctx, dst_level);
	e->task.pid = BPF_CORE_READ(ctx, pid);
	bpf_probe_read_kernel_str(e->path, sizeof(e->path), (void *)ctx + off);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("fentry/cgroup_migrate")
int BPF_PROG(migrating, struct task_struct *leader, bool threadgroup, struct cgroup_mgctx *mgctx)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	struct cgroup *from = leader->cgroups->dfl_cgrp;

	if (!e)
		return 0;
	task_ids(leader, &e->task);
	e->from_cgroup = kn_id(from->kn);
	e->level = from->level;
	e->id = bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id) ?
		(int)(u64)BPF_CORE_READ(leader, cgroups, subsys[bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id)]) : -1;
	BPF_CORE_READ_STR_INTO(&e->path, from, kn, name);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
