/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tcplife: TCP sessions from first state change to close: endpoints, owner,
 * duration and bytes each way. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct birth { u64 ts; u32 tgid; char comm[COMM_LEN]; };
struct event { struct birth b; struct sock_id sk; struct tcp_stats st; u64 span_ns; };
HASH(births, u64, struct birth, 10240);
RINGBUF(events);

SEC("tracepoint/sock/inet_sock_set_state")
int state_set(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct sock *sk = (struct sock *)BPF_CORE_READ(ctx, skaddr);
	int newstate = BPF_CORE_READ(ctx, newstate);
	u64 key = (u64)sk;
	struct birth *b, nb = {};
	struct event *e;

	if (BPF_CORE_READ(ctx, protocol) != 6 /* IPPROTO_TCP */)
		return 0;
	if (newstate < 7 /* TCP_CLOSE */) {
		if (bpf_map_lookup_elem(&births, &key))
			return 0;
		nb.ts = bpf_ktime_get_ns();
		nb.tgid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(nb.comm, sizeof(nb.comm));
		if (!IGNORED(nb.tgid))
			bpf_map_update_elem(&births, &key, &nb, BPF_ANY);
		return 0;
	}
	if (newstate != 7)
		return 0;
	b = bpf_map_lookup_elem(&births, &key);
	if (!b)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		e->b = *b;
		e->span_ns = bpf_ktime_get_ns() - b->ts;
		sock_ids(sk, &e->sk);
		e->sk.sport = BPF_CORE_READ(ctx, sport);
		e->sk.dport = BPF_CORE_READ(ctx, dport);
		BPF_CORE_READ_INTO(&e->sk.saddr, ctx, saddr_v6);
		tcp_stats(sk, &e->st);
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&births, &key);
	return 0;
}
