/* SPDX-License-Identifier: GPL-2.0-or-later */
/* capwatch: capability checks, the credentials asking and the user namespace
 * they were checked in. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct event {
	struct task_id id;
	int cap, opts, verdict, ns_level;
	u32 euid, ns_owner;
	u64 effective, permitted;
};

RINGBUF(events);
HASH(pending, u32, struct event, 10240);

SEC("kprobe/cap_capable")
int BPF_KPROBE(cap_enter, const struct cred *cred, struct user_namespace *ns, int cap, unsigned int opts)
{
	u32 tid = bpf_get_current_pid_tgid();
	struct event e = {};

	current_ids(&e.id);
	if (IGNORED(e.id.tgid))
		return 0;
	e.cap = cap;
	e.opts = opts;
	e.euid = BPF_CORE_READ(cred, euid.val);
	BPF_CORE_READ_INTO(&e.effective, cred, cap_effective);
	BPF_CORE_READ_INTO(&e.permitted, cred, cap_permitted);
	e.ns_level = BPF_CORE_READ(ns, level);
	e.ns_owner = BPF_CORE_READ(ns, owner.val);
	bpf_map_update_elem(&pending, &tid, &e, BPF_ANY);
	return 0;
}

SEC("kretprobe/cap_capable")
int BPF_KRETPROBE(cap_exit, int ret)
{
	u32 tid = bpf_get_current_pid_tgid();
	struct event *p = bpf_map_lookup_elem(&pending, &tid), *e;

	if (!p)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		__builtin_memcpy(e, p, sizeof(*e));
		e->verdict = ret;
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&pending, &tid);
	return 0;
}
