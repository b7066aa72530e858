/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tcptop: TCP throughput by process and connection, from sendmsg and the
 * receive-buffer cleanup. */
#include "tool.h"

LICENSE_GPL;
TOOL_FILTERS;

struct tt_key { struct sock_id sk; u32 tgid; char comm[COMM_LEN]; };
struct tt_val { u64 sent, received; };
HASH(traffic, struct tt_key, struct tt_val, 10240);

static __always_inline int account(struct sock *sk, u64 sent, u64 received)
{
	struct tt_key k = { .tgid = bpf_get_current_pid_tgid() >> 32 };
	struct tt_val *v, zero = {};

	if (IGNORED(k.tgid))
		return 0;
	sock_ids(sk, &k.sk);
	bpf_get_current_comm(k.comm, sizeof(k.comm));
	v = bpf_map_lookup_elem(&traffic, &k);
	if (!v) {
		bpf_map_update_elem(&traffic, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&traffic, &k);
		if (!v)
			return 0;
	}
	__sync_fetch_and_add(&v->sent, sent);
	__sync_fetch_and_add(&v->received, received);
	return 0;
}

SEC("kprobe/tcp_sendmsg")
int BPF_KPROBE(sending, struct sock *sk, struct msghdr *msg, size_t size) { return account(sk, size, 0); }

SEC("kprobe/tcp_cleanup_rbuf")
int BPF_KPROBE(received, struct sock *sk, int copied) { return copied > 0 ? account(sk, 0, copied) : 0; }
