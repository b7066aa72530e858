/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pagealloc: page allocations by order, migrate type and process, and the
 * ones that fell back to another zone or migrate type. */
#include "tool.h"

LICENSE_GPL;

struct pa_key { u32 order, migratetype, tgid; };
HASH(allocs, struct pa_key, u64, 8192);
HASH(fallbacks, u32, u64, 64);

SEC("tracepoint/kmem/mm_page_alloc")
int allocated(struct trace_event_raw_mm_page_alloc *ctx)
{
	struct pa_key k = { BPF_CORE_READ(ctx, order), BPF_CORE_READ(ctx, migratetype),
			    bpf_get_current_pid_tgid() >> 32 };
	u64 one = 1, *n;

	if (BPF_CORE_READ(ctx, pfn) == (unsigned long)-1)
		return 0;
	n = bpf_map_lookup_elem(&allocs, &k);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&allocs, &k, &one, BPF_NOEXIST);
	return 0;
}

SEC("tracepoint/kmem/mm_page_alloc_extfrag")
int extfrag(struct trace_event_raw_mm_page_alloc_extfrag *ctx)
{
	u32 k = BPF_CORE_READ(ctx, fallback_migratetype) << 8 | BPF_CORE_READ(ctx, alloc_migratetype);
	u64 one = 1, *n = bpf_map_lookup_elem(&fallbacks, &k);

	if (BPF_CORE_READ(ctx, change_ownership))
		k |= 1 << 16;
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&fallbacks, &k, &one, BPF_NOEXIST);
	return 0;
}

SEC("tp_btf/mm_page_free")
int BPF_PROG(freed, struct page *page, unsigned int order)
{
	u32 k = 1 << 31 | order;
	u64 one = 1, *n = bpf_map_lookup_elem(&fallbacks, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&fallbacks, &k, &one, BPF_NOEXIST);
	return 0;
}
