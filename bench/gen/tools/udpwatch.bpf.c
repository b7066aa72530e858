/* SPDX-License-Identifier: GPL-2.0-or-later */
/* udpwatch: UDP datagrams sent and received per socket and process, with the
 * destination from msg_name for unconnected sends, and receive drops. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct event { struct task_id task; struct sock_id sk; u32 len, dst, drops, rcvbuf, corked; u16 dport; bool send; };
PERFBUF(events);

static __always_inline int report(void *ctx, struct sock *sk, u32 len, bool send, struct msghdr *msg)
{
	struct event e = { .len = len, .send = send };

	current_ids(&e.task);
	if (IGNORED(e.task.tgid))
		return 0;
	sock_ids(sk, &e.sk);
	e.drops = BPF_CORE_READ(sk, sk_drops.counter);
	e.rcvbuf = BPF_CORE_READ(sk, sk_rcvbuf);
	e.corked = BPF_CORE_READ((struct udp_sock *)sk, pending);
	if (msg && BPF_CORE_READ(msg, msg_name)) {
		struct sockaddr_in *sin = BPF_CORE_READ(msg, msg_name);
		e.dst = BPF_CORE_READ(sin, sin_addr.s_addr);
		e.dport = bpf_ntohs(BPF_CORE_READ(sin, sin_port));
	}
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

SEC("kprobe/udp_sendmsg")
int BPF_KPROBE(send4, struct sock *sk, struct msghdr *msg, size_t len) { return report(ctx, sk, len, true, msg); }

SEC("kprobe/udpv6_sendmsg")
int BPF_KPROBE(send6, struct sock *sk, struct msghdr *msg, size_t len) { return report(ctx, sk, len, true, msg); }

SEC("kprobe/udp_recvmsg")
int BPF_KPROBE(recv4, struct sock *sk, struct msghdr *msg, size_t len) { return report(ctx, sk, len, false, 0); }
