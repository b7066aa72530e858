/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offcputime: time tasks spend blocked, by kernel and user stack and by the
 * state they blocked in (sleeping, uninterruptible, stopped). */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct offcpu_key {
	u32 tgid;
	int kstack, ustack;
	long state;
	char comm[COMM_LEN];
};

struct start {
	u64 ts;
	struct offcpu_key key;
};

HASH(starts, u32, struct start, 10240);
HASH(totals, struct offcpu_key, u64, 10240);
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(u32));
	__uint(value_size, 127 * sizeof(u64));
	__uint(max_entries, 4096);
} stacks SEC(".maps");

SEC("kprobe/finish_task_switch")
int BPF_KPROBE(switch_done, struct task_struct *prev)
{
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task();
	u32 pid = BPF_CORE_READ(prev, pid);
	long state = task_state(prev);
	struct start *s, ns = {};

	if (state != 0 && !IGNORED(BPF_CORE_READ(prev, tgid)) && !(BPF_CORE_READ(prev, flags) & 0x00200000)) {
		ns.ts = bpf_ktime_get_ns();
		ns.key.tgid = BPF_CORE_READ(prev, tgid);
		ns.key.state = state;
		ns.key.kstack = bpf_get_stackid(ctx, &stacks, 0);
		ns.key.ustack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
		BPF_CORE_READ_STR_INTO(&ns.key.comm, prev, comm);
		bpf_map_update_elem(&starts, &pid, &ns, BPF_ANY);
	}
	pid = BPF_CORE_READ(cur, pid);
	s = bpf_map_lookup_elem(&starts, &pid);
	if (s) {
		u64 d = bpf_ktime_get_ns() - s->ts, *tot = bpf_map_lookup_elem(&totals, &s->key);

		if (tot)
			__sync_fetch_and_add(tot, d);
		else
			bpf_map_update_elem(&totals, &s->key, &d, BPF_NOEXIST);
		bpf_map_delete_elem(&starts, &pid);
	}
	return 0;
}
