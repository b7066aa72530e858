/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bpfwatch: BPF programs and maps loaded on the host, by whom, their type,
 * size and name. */
#include "tool.h"

LICENSE_GPL;

struct event {
	struct task_id task;
	u32 kind, type, len, id, map_max;
	bool jited, kprobe_override;
	char name[16];
};

RINGBUF(events);

SEC("fexit/bpf_prog_kallsyms_add")
int BPF_PROG(prog_added, struct bpf_prog *prog)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	current_ids(&e->task);
	e->kind = 0;
	e->type = prog->type;
	e->len = prog->len;
	e->jited = prog->jited;
	e->kprobe_override = prog->type == bpf_core_enum_value(enum bpf_prog_type, BPF_PROG_TYPE_KPROBE) &&
			     bpf_core_field_exists(prog->kprobe_override) && prog->kprobe_override;
	e->id = BPF_CORE_READ(prog, aux, id);
	BPF_CORE_READ_STR_INTO(&e->name, prog, aux, name);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kprobe/bpf_map_new_fd")
int BPF_KPROBE(map_added, struct bpf_map *map)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	current_ids(&e->task);
	e->kind = 1;
	e->type = BPF_CORE_READ(map, map_type);
	e->id = BPF_CORE_READ(map, id);
	e->map_max = BPF_CORE_READ(map, max_entries);
	if (e->type == bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_HASH))
		e->len = BPF_CORE_READ(map, key_size);
	if (bpf_core_enum_value_exists(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF) &&
	    e->type == bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF))
		e->len = 0;
	BPF_CORE_READ_STR_INTO(&e->name, map, name);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
