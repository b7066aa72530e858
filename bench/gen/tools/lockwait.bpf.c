/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lockwait: time spent waiting for mutexes and rw semaphores, by lock and by
 * the task that held it. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct wait { u64 lock, ts; };
struct lock_key { u64 lock; u32 owner_pid; char owner[COMM_LEN]; };
HASH(waiting, u32, struct wait, 10240);
HASH(waits, struct lock_key, struct hist, 4096);

static __always_inline void begin(u64 lock)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = id;
	struct wait w = { lock, bpf_ktime_get_ns() };

	if (!IGNORED(id >> 32))
		bpf_map_update_elem(&waiting, &tid, &w, BPF_ANY);
}

static __always_inline void end(struct task_struct *owner)
{
	u32 tid = bpf_get_current_pid_tgid();
	struct wait *w = bpf_map_lookup_elem(&waiting, &tid);
	struct lock_key k = {};
	struct hist *h;

	if (!w)
		return;
	k.lock = w->lock;
	k.owner_pid = BPF_CORE_READ(owner, pid);
	BPF_CORE_READ_STR_INTO(&k.owner, owner, comm);
	h = bpf_map_lookup_elem(&waits, &k);
	if (h)
		hist_add(h, (bpf_ktime_get_ns() - w->ts) / 1000);
	bpf_map_delete_elem(&waiting, &tid);
}

SEC("fentry/mutex_lock")
int BPF_PROG(mutex_enter, struct mutex *m)
{
	begin((u64)m);
	return 0;
}

SEC("fexit/mutex_lock")
int BPF_PROG(mutex_exit, struct mutex *m)
{
	end((struct task_struct *)(m->owner.counter & ~0x7L));
	return 0;
}

SEC("fentry/down_read")
int BPF_PROG(rwsem_enter, struct rw_semaphore *s)
{
	begin((u64)s);
	return 0;
}

SEC("fexit/down_read")
int BPF_PROG(rwsem_exit, struct rw_semaphore *s)
{
	end((struct task_struct *)(BPF_CORE_READ(s, owner.counter) & ~0x7L));
	return 0;
}
