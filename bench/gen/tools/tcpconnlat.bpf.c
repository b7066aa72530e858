/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tcpconnlat: TCP active connect latency, from connect() to the SYN-ACK
 * being processed, with both endpoints. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct pending { u64 ts; u32 tgid; char comm[COMM_LEN]; };
struct event { struct pending who; struct sock_id sk; u64 lat_ns; };
HASH(connecting, u64, struct pending, 4096);
PERFBUF(events);

static __always_inline int connect(struct sock *sk)
{
	u64 key = (u64)sk;
	struct pending p = { bpf_ktime_get_ns(), bpf_get_current_pid_tgid() >> 32 };

	if (IGNORED(p.tgid))
		return 0;
	bpf_get_current_comm(p.comm, sizeof(p.comm));
	bpf_map_update_elem(&connecting, &key, &p, BPF_ANY);
	return 0;
}

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(v4_connect, struct sock *sk) { return connect(sk); }

SEC("kprobe/tcp_v6_connect")
int BPF_KPROBE(v6_connect, struct sock *sk) { return connect(sk); }

SEC("fentry/tcp_rcv_state_process")
int BPF_PROG(state_process, struct sock *sk)
{
	u64 key = (u64)sk;
	struct pending *p;
	struct event e = {};

	if (sk->__sk_common.skc_state != 2 /* TCP_SYN_SENT */)
		return 0;
	p = bpf_map_lookup_elem(&connecting, &key);
	if (!p)
		return 0;
	e.who = *p;
	e.lat_ns = bpf_ktime_get_ns() - p->ts;
	sock_ids(sk, &e.sk);
	bpf_map_delete_elem(&connecting, &key);
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

SEC("tracepoint/tcp/tcp_destroy_sock")
int destroyed(struct trace_event_raw_tcp_event_sk *ctx)
{
	u64 key = (u64)BPF_CORE_READ(ctx, skaddr);

	bpf_map_delete_elem(&connecting, &key);
	return 0;
}
