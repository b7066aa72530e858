/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tcpaccept: accepted TCP connections, with the listener's backlog and the
 * accepting process. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct event { struct task_id task; struct sock_id sk; u32 backlog, max_backlog, lport; };
RINGBUF(events);

SEC("kretprobe/inet_csk_accept")
int BPF_KRETPROBE(accepted, struct sock *sk)
{
	struct inet_sock *inet = (struct inet_sock *)sk;
	struct event *e;

	if (!sk || sock_protocol(sk) != 6)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	current_ids(&e->task);
	sock_ids(sk, &e->sk);
	e->lport = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
	e->backlog = BPF_CORE_READ(sk, sk_ack_backlog);
	e->max_backlog = BPF_CORE_READ(sk, sk_max_ack_backlog);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
