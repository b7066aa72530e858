/* SPDX-License-Identifier: GPL-2.0-or-later */
/* irqtime: time in hard and soft interrupt handlers, per IRQ / softirq
 * vector, as totals and histograms. */
#include "tool.h"

LICENSE_GPL;

struct irq_key { int irq; char name[32]; };
struct irq_val { u64 count, total_ns; struct hist hist; };

struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 2); __type(key, u32); __type(value, u64); } starts SEC(".maps");
HASH(irqs, struct irq_key, struct irq_val, 512);

static __always_inline void account(struct irq_key *k, u32 slot)
{
	u64 *ts = bpf_map_lookup_elem(&starts, &slot), d;
	struct irq_val *v, zero = {};

	if (!ts || !*ts)
		return;
	d = bpf_ktime_get_ns() - *ts;
	v = bpf_map_lookup_elem(&irqs, k);
	if (!v) {
		bpf_map_update_elem(&irqs, k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&irqs, k);
		if (!v)
			return;
	}
	v->count++;
	v->total_ns += d;
	hist_add(&v->hist, d / 1000);
}

static __always_inline void stamp(u32 slot)
{
	u64 now = bpf_ktime_get_ns();
	bpf_map_update_elem(&starts, &slot, &now, BPF_ANY);
}

SEC("tp_btf/irq_handler_entry")
int BPF_PROG(hard_entry, int irq, struct irqaction *action)
{
	stamp(0);
	return 0;
}

SEC("tp_btf/irq_handler_exit")
int BPF_PROG(hard_exit, int irq, struct irqaction *action)
{
	struct irq_key k = { .irq = irq };

	bpf_probe_read_kernel_str(k.name, sizeof(k.name), BPF_CORE_READ(action, name));
	account(&k, 0);
	return 0;
}

SEC("tracepoint/irq/softirq_entry")
int soft_entry(struct trace_event_raw_softirq *ctx)
{
	stamp(1);
	return 0;
}

SEC("tracepoint/irq/softirq_exit")
int soft_exit(struct trace_event_raw_softirq *ctx)
{
	struct irq_key k = { .irq = -1 - (int)BPF_CORE_READ(ctx, vec) };

	account(&k, 1);
	return 0;
}
