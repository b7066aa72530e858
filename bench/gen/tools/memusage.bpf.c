/* SPDX-License-Identifier: GPL-2.0-or-later */
/* memusage: each exiting process's memory footprint: RSS, peak RSS, virtual
 * size, the executable and the command line's extent. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct event {
	struct task_id task;
	u64 rss, hiwater_rss, total_vm, locked_vm, data_vm, stack_vm, map_count;
	u64 arg_len, env_len, minflt, majflt;
	char exe[32];
};
RINGBUF(events);

SEC("tp_btf/sched_process_exit")
int BPF_PROG(exiting, struct task_struct *t)
{
	struct mm_struct *mm = t->mm;
	struct event *e;

	if (!mm || t->pid != t->tgid || IGNORED(t->tgid))
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	task_ids(t, &e->task);
	e->rss = mm_rss_pages(mm);
	e->hiwater_rss = BPF_CORE_READ(mm, hiwater_rss);
	e->total_vm = BPF_CORE_READ(mm, total_vm);
	e->locked_vm = BPF_CORE_READ(mm, locked_vm);
	e->data_vm = BPF_CORE_READ(mm, data_vm);
	e->stack_vm = BPF_CORE_READ(mm, stack_vm);
	e->map_count = BPF_CORE_READ(mm, map_count);
	e->arg_len = BPF_CORE_READ(mm, arg_end) - BPF_CORE_READ(mm, arg_start);
	e->env_len = BPF_CORE_READ(mm, env_end) - BPF_CORE_READ(mm, env_start);
	e->minflt = t->min_flt;
	e->majflt = t->maj_flt;
	BPF_CORE_READ_STR_INTO(&e->exe, mm, exe_file, f_path.dentry, d_name.name);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
