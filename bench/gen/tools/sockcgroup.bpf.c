/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sockcgroup: egress bytes by the cgroup that owns the socket, read from the
 * socket's cgroup data (a tagged word before 5.15, a pointer since). */
#include "tool.h"

LICENSE_GPL;

struct sock_cgroup_data___v515 { struct cgroup *cgroup; } __pai;
HASH(bytes, u64, u64, 4096);

static __always_inline u64 sock_cgroup_id(struct sock *sk)
{
	struct sock_cgroup_data___v515 *n = (void *)&sk->sk_cgrp_data;
	struct cgroup *cg;

	if (bpf_core_field_exists(n->cgroup)) {
		cg = BPF_CORE_READ(n, cgroup);
	} else {
		u64 val = BPF_CORE_READ(sk, sk_cgrp_data.val);
		if (val & 1)
			return 0;
		cg = (struct cgroup *)val;
	}
	return kn_id(BPF_CORE_READ(cg, kn));
}

SEC("fentry/ip_finish_output")
int BPF_PROG(output, struct net *net, struct sock *sk, struct sk_buff *skb)
{
	u64 id, len = skb->len, *n;

	if (!sk)
		return 0;
	id = sock_cgroup_id(sk);
	n = bpf_map_lookup_elem(&bytes, &id);
	if (n)
		__sync_fetch_and_add(n, len);
	else
		bpf_map_update_elem(&bytes, &id, &len, BPF_NOEXIST);
	return 0;
}
