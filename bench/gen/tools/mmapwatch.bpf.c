/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mmapwatch: executable and shared mappings created, with the file mapped,
 * its inode and the mapping's range and flags. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct event { struct task_id task; struct file_id file; u64 start, end, flags, pgoff; u32 map_count; };
PERFBUF(events);

SEC("fentry/security_mmap_file")
int BPF_PROG(mmap_file, struct file *f, unsigned long prot, unsigned long flags)
{
	struct event e = { .flags = prot << 32 | flags };

	if (!f || !(prot & 0x4 /* PROT_EXEC */))
		return 0;
	current_ids(&e.task);
	if (IGNORED(e.task.tgid))
		return 0;
	file_ids(f, &e.file);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

SEC("kprobe/vma_link")
int BPF_KPROBE(linked, struct mm_struct *mm, struct vm_area_struct *vma)
{
	struct file *f = BPF_CORE_READ(vma, vm_file);
	struct event e = {};

	if (!f)
		return 0;
	current_ids(&e.task);
	file_ids(f, &e.file);
	e.start = BPF_CORE_READ(vma, vm_start);
	e.end = BPF_CORE_READ(vma, vm_end);
	e.flags = BPF_CORE_READ(vma, vm_flags);
	e.pgoff = BPF_CORE_READ(vma, vm_pgoff);
	e.map_count = BPF_CORE_READ(mm, map_count);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}
