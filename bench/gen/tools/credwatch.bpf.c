/* SPDX-License-Identifier: GPL-2.0-or-later */
/* credwatch: credential changes (setuid, setgid, capset, exec of a setuid
 * binary): the old and new ids and capability sets. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct ids { u32 uid, euid, suid, fsuid, gid, egid; u64 cap_eff, cap_inh, cap_amb; u32 securebits; };
struct event {
	struct task_id task;
	struct ids old, new;
};

PERFBUF(events);

static __always_inline void cred_ids(const struct cred *c, struct ids *i)
{
	i->uid = BPF_CORE_READ(c, uid.val);
	i->euid = BPF_CORE_READ(c, euid.val);
	i->suid = BPF_CORE_READ(c, suid.val);
	i->fsuid = BPF_CORE_READ(c, fsuid.val);
	i->gid = BPF_CORE_READ(c, gid.val);
	i->egid = BPF_CORE_READ(c, egid.val);
	i->securebits = BPF_CORE_READ(c, securebits);
	BPF_CORE_READ_INTO(&i->cap_eff, c, cap_effective);
	BPF_CORE_READ_INTO(&i->cap_inh, c, cap_inheritable);
	if (bpf_core_field_exists(c->cap_ambient))
		BPF_CORE_READ_INTO(&i->cap_amb, c, cap_ambient);
}

SEC("fentry/commit_creds")
int BPF_PROG(committing, const struct cred *new)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct event e = {};

	task_ids(t, &e.task);
	if (IGNORED(e.task.tgid))
		return 0;
	cred_ids(t->real_cred, &e.old);
	cred_ids(new, &e.new);
	if (e.old.uid == e.new.uid && e.old.euid == e.new.euid && e.old.cap_eff == e.new.cap_eff)
		return 0;
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}
