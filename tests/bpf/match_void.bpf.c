/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A field relocation keeps rb_root.rb_node as a pointer; bpftool truncates it to
 * void *, so type_matches(struct rb_root___m { void *rb_node; }) wrongly
 * succeeds on its output. Record #1 is patched from type_exists to
 * type_matches at build time. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";
struct rb_root___m { void *rb_node; };
long results[4];

SEC("tracepoint/syscalls/sys_enter_execve")
int match_void(void *ctx)
{
	struct rb_root *root = (void *)bpf_get_current_task();

	results[0] = (long)BPF_CORE_READ(root, rb_node);
	results[1] = bpf_core_type_exists(struct rb_root___m);
	return 0;
}
