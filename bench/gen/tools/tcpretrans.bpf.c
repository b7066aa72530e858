/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tcpretrans: TCP retransmits and tail loss probes with endpoints, state and
 * the connection's congestion state. */
#include "tool.h"

LICENSE_GPL;

struct event { struct sock_id sk; struct tcp_stats st; u32 ca_state, type; u64 skb_len; };
PERFBUF(events);

SEC("tracepoint/tcp/tcp_retransmit_skb")
int retransmitted(struct trace_event_raw_tcp_event_sk_skb *ctx)
{
	struct sock *sk = (struct sock *)BPF_CORE_READ(ctx, skaddr);
	struct sk_buff *skb = (struct sk_buff *)BPF_CORE_READ(ctx, skbaddr);
	struct event e = {};

	sock_ids(sk, &e.sk);
	if (bpf_core_field_exists(ctx->state))
		e.sk.state = BPF_CORE_READ(ctx, state);
	tcp_stats(sk, &e.st);
	e.ca_state = BPF_CORE_READ_BITFIELD_PROBED((struct inet_connection_sock *)sk, icsk_ca_state);
	e.skb_len = BPF_CORE_READ(skb, len);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

SEC("kprobe/tcp_send_loss_probe")
int BPF_KPROBE(loss_probe, struct sock *sk)
{
	struct event e = { .type = 1 };

	sock_ids(sk, &e.sk);
	tcp_stats(sk, &e.st);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}
