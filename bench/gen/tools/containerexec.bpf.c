/* SPDX-License-Identifier: GPL-2.0-or-later */
/* containerexec: execs inside containers (a pid namespace below the host's),
 * with the container's host name, cgroup path components and user mapping. */
#include "tool.h"

LICENSE_GPL;

struct event {
	struct task_id task;
	u32 ns_pid, ns_level, user_level, map_first, map_count;
	char hostname[65];
	char cgroup[3][32];
	char file[32];
};
RINGBUF(events);

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec, struct task_struct *t, pid_t old_pid, struct linux_binprm *bprm)
{
	struct pid_namespace *pidns = BPF_CORE_READ(t, nsproxy, pid_ns_for_children);
	struct kernfs_node *kn = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn);
	struct user_namespace *userns = BPF_CORE_READ(t, cred, user_ns);
	struct event *e;

	if (BPF_CORE_READ(pidns, level) == 0)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	task_ids(t, &e->task);
	e->ns_level = BPF_CORE_READ(pidns, level);
	e->ns_pid = task_pidns_pid(t);
	e->user_level = BPF_CORE_READ(userns, level);
	e->map_first = BPF_CORE_READ(userns, uid_map.extent[0].first);
	e->map_count = BPF_CORE_READ(userns, uid_map.extent[0].count);
	BPF_CORE_READ_STR_INTO(&e->hostname, t, nsproxy, uts_ns, name.nodename);
	for (int i = 0; i < 3 && kn; i++) {
		BPF_CORE_READ_STR_INTO(&e->cgroup[i], kn, name);
		kn = BPF_CORE_READ(kn, parent);
	}
	BPF_CORE_READ_STR_INTO(&e->file, bprm, file, f_path.dentry, d_name.name);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
