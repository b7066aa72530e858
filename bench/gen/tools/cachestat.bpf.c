/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cachestat: page cache hits, misses and dirtied pages per file, through
 * struct folio on kernels that have it. */
#include "tool.h"

LICENSE_GPL;

struct cs_key { u64 ino; u32 dev; };
struct cs_val { u64 accessed, added, dirtied, nrpages; };
HASH(files, struct cs_key, struct cs_val, 10240);

static __always_inline struct cs_val *val_of(struct address_space *m)
{
	struct inode *host = BPF_CORE_READ(m, host);
	struct cs_key k = { BPF_CORE_READ(host, i_ino), BPF_CORE_READ(host, i_sb, s_dev) };
	struct cs_val *v = bpf_map_lookup_elem(&files, &k), zero = {};

	if (v)
		return v;
	zero.nrpages = BPF_CORE_READ(m, nrpages);
	bpf_map_update_elem(&files, &k, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&files, &k);
}

SEC("kprobe/mark_page_accessed")
int BPF_KPROBE(accessed, struct page *page)
{
	unsigned long index;
	struct cs_val *v = val_of(page_mapping_of(page, &index));

	if (v)
		__sync_fetch_and_add(&v->accessed, 1);
	return 0;
}

SEC("kprobe/add_to_page_cache_lru")
int BPF_KPROBE(added, struct page *page, struct address_space *mapping)
{
	struct cs_val *v = val_of(mapping);

	if (v)
		__sync_fetch_and_add(&v->added, 1);
	return 0;
}

SEC("kprobe/account_page_dirtied")
int BPF_KPROBE(dirtied, struct page *page, struct address_space *mapping)
{
	struct cs_val *v = val_of(mapping);

	if (v)
		__sync_fetch_and_add(&v->dirtied, 1);
	return 0;
}

SEC("tracepoint/filemap/mm_filemap_add_to_page_cache")
int filemap_added(struct trace_event_raw_mm_filemap_op_page_cache *ctx)
{
	struct cs_key k = { BPF_CORE_READ(ctx, i_ino), BPF_CORE_READ(ctx, s_dev) };
	struct cs_val *v = bpf_map_lookup_elem(&files, &k);

	if (v)
		__sync_fetch_and_add(&v->added, 1);
	return 0;
}
