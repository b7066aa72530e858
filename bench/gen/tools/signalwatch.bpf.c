/* SPDX-License-Identifier: GPL-2.0-or-later */
/* signalwatch: signals sent and delivered, with sender and target, and the
 * fatal ones that end a process. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct event {
	struct task_id sender;
	u32 target_pid, sig, code, result, group_exit;
	char target_comm[COMM_LEN];
};

PERFBUF(events);
HASH(kill_args, u32, u64, 1024);

SEC("tracepoint/signal/signal_generate")
int generated(struct trace_event_raw_signal_generate *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct event e = {};

	current_ids(&e.sender);
	if (IGNORED(e.sender.tgid))
		return 0;
	e.target_pid = BPF_CORE_READ(ctx, pid);
	e.sig = BPF_CORE_READ(ctx, sig);
	e.code = BPF_CORE_READ(ctx, code);
	e.result = BPF_CORE_READ(ctx, result);
	e.group_exit = BPF_CORE_READ(t, signal, flags) & 0x4;
	BPF_CORE_READ_STR_INTO(&e.target_comm, ctx, comm);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_kill")
int kill_enter(struct trace_event_raw_sys_enter *ctx)
{
	u32 tid = bpf_get_current_pid_tgid();
	u64 args = BPF_CORE_READ(ctx, args[0]) << 32 | BPF_CORE_READ(ctx, args[1]);

	bpf_map_update_elem(&kill_args, &tid, &args, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_kill")
int kill_exit(struct trace_event_raw_sys_exit *ctx)
{
	u32 tid = bpf_get_current_pid_tgid();
	u64 *args = bpf_map_lookup_elem(&kill_args, &tid);
	struct event e = {};

	if (!args)
		return 0;
	current_ids(&e.sender);
	e.target_pid = *args >> 32;
	e.sig = (u32)*args;
	e.result = BPF_CORE_READ(ctx, ret);
	bpf_map_delete_elem(&kill_args, &tid);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}
