/* SPDX-License-Identifier: GPL-2.0-or-later */
/* timerwatch: high-resolution timers armed and expiring late, by callback
 * and mode. */
#include "tool.h"

LICENSE_GPL;

struct event { u64 fn, expires, soft, late_ns; u32 mode, cpu; char comm[COMM_LEN]; };
RINGBUF(events);
HASH(armed, u64, struct event, 8192);

SEC("tracepoint/timer/hrtimer_start")
int armed_tp(struct trace_event_raw_hrtimer_start *ctx)
{
	u64 t = (u64)BPF_CORE_READ(ctx, hrtimer);
	struct event e = {
		.fn = (u64)BPF_CORE_READ(ctx, function),
		.expires = BPF_CORE_READ(ctx, expires),
		.soft = BPF_CORE_READ(ctx, softexpires),
		.mode = BPF_CORE_READ(ctx, mode),
	};

	if (bpf_core_enum_value_exists(enum hrtimer_mode, HRTIMER_MODE_HARD) &&
	    (e.mode & bpf_core_enum_value(enum hrtimer_mode, HRTIMER_MODE_HARD)))
		e.mode |= 0x100;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_map_update_elem(&armed, &t, &e, BPF_ANY);
	return 0;
}

SEC("tp_btf/hrtimer_expire_entry")
int BPF_PROG(expiring, struct hrtimer *timer, ktime_t *now)
{
	u64 t = (u64)timer, n = *now;
	struct event *a = bpf_map_lookup_elem(&armed, &t), *e;

	if (!a)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		__builtin_memcpy(e, a, sizeof(*e));
		e->late_ns = n - timer->node.expires;
		e->cpu = BPF_CORE_READ(timer, base, cpu_base, cpu);
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&armed, &t);
	return 0;
}
