/* SPDX-License-Identifier: GPL-2.0-or-later */
/* syscount: system calls by process and number, with their latency and how
 * many failed. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct sc_key { u32 tgid, nr; };
struct sc_val { u64 count, errors, total_ns; };

HASH(entered, u32, u64, 10240);
HASH(calls, struct sc_key, struct sc_val, 8192);

SEC("tracepoint/raw_syscalls/sys_enter")
int sc_enter(struct trace_event_raw_sys_enter *ctx)
{
	u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();
	u32 tid = id;

	if (IGNORED(id >> 32) || BPF_CORE_READ(ctx, id) < 0)
		return 0;
	bpf_map_update_elem(&entered, &tid, &now, BPF_ANY);
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int sc_exit(struct trace_event_raw_sys_exit *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = id;
	u64 *ts = bpf_map_lookup_elem(&entered, &tid);
	struct sc_key k = { .tgid = id >> 32, .nr = BPF_CORE_READ(ctx, id) };
	struct sc_val *v, zero = {};

	if (!ts)
		return 0;
	v = bpf_map_lookup_elem(&calls, &k);
	if (!v) {
		bpf_map_update_elem(&calls, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&calls, &k);
		if (!v)
			return 0;
	}
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->total_ns, bpf_ktime_get_ns() - *ts);
	if (BPF_CORE_READ(ctx, ret) < 0)
		__sync_fetch_and_add(&v->errors, 1);
	bpf_map_delete_elem(&entered, &tid);
	return 0;
}
