/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nswatch: namespace switches (unshare, setns, clone into new namespaces):
 * every namespace id of the task before and after, and its host name. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct ns_ids { u32 mnt, pid, net, uts, ipc, cgroup, user; int user_level; char nodename[65]; };
struct event { struct task_id task; struct ns_ids ns; int call; };

RINGBUF(events);

static __always_inline void ns_ids(struct task_struct *t, struct ns_ids *n)
{
	struct nsproxy *p = BPF_CORE_READ(t, nsproxy);

	n->mnt = BPF_CORE_READ(p, mnt_ns, ns.inum);
	n->pid = BPF_CORE_READ(p, pid_ns_for_children, ns.inum);
	n->net = BPF_CORE_READ(p, net_ns, ns.inum);
	n->uts = BPF_CORE_READ(p, uts_ns, ns.inum);
	n->ipc = BPF_CORE_READ(p, ipc_ns, ns.inum);
	if (bpf_core_field_exists(p->cgroup_ns))
		n->cgroup = BPF_CORE_READ(p, cgroup_ns, ns.inum);
	n->user = BPF_CORE_READ(t, real_cred, user_ns, ns.inum);
	n->user_level = BPF_CORE_READ(t, real_cred, user_ns, level);
	BPF_CORE_READ_STR_INTO(&n->nodename, p, uts_ns, name.nodename);
}

static __always_inline int report(int call)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	task_ids(t, &e->task);
	ns_ids(t, &e->ns);
	e->call = call;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kretprobe/ksys_unshare")
int BPF_KRETPROBE(unshared) { return report(1); }

SEC("tracepoint/syscalls/sys_exit_setns")
int setns_done(struct trace_event_raw_sys_exit *ctx)
{
	return BPF_CORE_READ(ctx, ret) == 0 ? report(2) : 0;
}

SEC("fexit/switch_task_namespaces")
int BPF_PROG(switched, struct task_struct *t, struct nsproxy *new) { return report(3); }
