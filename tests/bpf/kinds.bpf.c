/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One program exercising every CO-RE relocation kind libbpf knows (type_matches
 * comes from patching a type_exists record, see patch-relo-kind.py), flavors,
 * typedef roots, anonymous unions on the path, arrays, bitfields and enums. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

struct task_struct___legacy { long state; } __attribute__((preserve_access_index));
typedef struct { int counter; } atomic_t___flavored;
enum bpf_map_type___mine { BPF_MAP_TYPE_RINGBUF___mine = 27, BPF_MAP_TYPE_MISSING___mine = 4242 };

long results[32];

SEC("tracepoint/syscalls/sys_enter_execve")
int all_kinds(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct sk_buff *skb = (void *)task;

	results[0] = BPF_CORE_READ(task, real_parent, tgid);
	results[1] = bpf_core_field_exists(task->pid);
	results[2] = bpf_core_field_exists(((struct task_struct___legacy *)task)->state);
	results[3] = bpf_core_field_size(task->comm);
	results[4] = BPF_CORE_READ_BITFIELD_PROBED(task, sched_reset_on_fork);
	results[5] = bpf_core_type_exists(struct bpf_map);
	results[6] = bpf_core_type_size(struct file);
	results[7] = bpf_core_type_id_kernel(struct mm_struct);
	results[8] = bpf_core_enum_value_exists(enum bpf_map_type___mine, BPF_MAP_TYPE_RINGBUF___mine);
	results[9] = bpf_core_enum_value(enum bpf_map_type___mine, BPF_MAP_TYPE_RINGBUF___mine);
	results[10] = bpf_core_enum_value_exists(enum bpf_map_type___mine, BPF_MAP_TYPE_MISSING___mine);
	results[11] = BPF_CORE_READ(task, comm[5]);
	results[12] = (long)BPF_CORE_READ(skb, dev);
	results[13] = bpf_core_field_exists(((atomic_t___flavored *)0)->counter);
	results[14] = bpf_core_type_size(pid_t);
	results[15] = bpf_core_type_exists(struct task_struct___legacy);
	results[16] = bpf_core_type_id_local(struct task_struct);
	results[17] = __builtin_preserve_field_info(task->prio, BPF_FIELD_SIGNED);
	results[18] = bpf_core_field_offset(task->mm);
	return 0;
}
