/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kmemleak: kernel allocations not freed yet, with the allocating stack,
 * from the kmem tracepoints (renamed in 6.1) and the page allocator. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct trace_event_raw_kmalloc___v61 { unsigned long call_site; const void *ptr; size_t bytes_alloc; } __pai;
struct alloc { u64 size, ts; int stack; };
HASH(live, u64, struct alloc, 100000);
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(u32));
	__uint(value_size, 127 * sizeof(u64));
	__uint(max_entries, 10240);
} stacks SEC(".maps");

static __always_inline int alloc(void *ctx, u64 ptr, u64 size)
{
	struct alloc a = { size, bpf_ktime_get_ns(), bpf_get_stackid(ctx, &stacks, 0) };

	if (IGNORED(bpf_get_current_pid_tgid() >> 32) || !ptr)
		return 0;
	bpf_map_update_elem(&live, &ptr, &a, BPF_ANY);
	return 0;
}

SEC("tracepoint/kmem/kmalloc")
int kmalloc(void *ctx)
{
	if (bpf_core_type_exists(struct trace_event_raw_kmalloc___v61)) {
		struct trace_event_raw_kmalloc___v61 *a = ctx;
		return alloc(ctx, (u64)BPF_CORE_READ(a, ptr), BPF_CORE_READ(a, bytes_alloc));
	}
	struct trace_event_raw_kmem_alloc *b = ctx;
	return alloc(ctx, (u64)BPF_CORE_READ(b, ptr), BPF_CORE_READ(b, bytes_alloc));
}

SEC("tracepoint/kmem/kmem_cache_alloc")
int cache_alloc(struct trace_event_raw_kmem_alloc *ctx)
{
	return alloc(ctx, (u64)BPF_CORE_READ(ctx, ptr), BPF_CORE_READ(ctx, bytes_alloc));
}

SEC("tracepoint/kmem/kfree")
int kfree(struct trace_event_raw_kmem_free *ctx)
{
	u64 ptr = (u64)BPF_CORE_READ(ctx, ptr);

	bpf_map_delete_elem(&live, &ptr);
	return 0;
}

SEC("tracepoint/kmem/mm_page_alloc")
int page_alloc(struct trace_event_raw_mm_page_alloc *ctx)
{
	return alloc(ctx, BPF_CORE_READ(ctx, pfn), 4096ULL << BPF_CORE_READ(ctx, order));
}

SEC("tracepoint/kmem/mm_page_free")
int page_free(struct trace_event_raw_mm_page_free *ctx)
{
	u64 pfn = BPF_CORE_READ(ctx, pfn);

	bpf_map_delete_elem(&live, &pfn);
	return 0;
}
