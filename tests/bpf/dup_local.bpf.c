/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Two target candidates (struct pair and struct pair___v2, see dup_target.c)
 * both match the first relocation; only the second has `extra`. bpftool keeps
 * just the first candidate and the later relocations then go wrong on its
 * output; btfd must give the full-BTF results. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";
struct pair___local { int first; int second; int extra; } __attribute__((preserve_access_index));
long results[4];

SEC("tracepoint/syscalls/sys_enter_execve")
int dup_candidates(void *ctx)
{
	struct pair___local *p = (void *)ctx;

	results[0] = bpf_core_field_offset(p->second);
	results[1] = bpf_core_field_exists(p->extra);
	results[2] = bpf_core_field_offset(p->extra);
	return 0;
}
