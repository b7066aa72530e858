/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tcprtt: smoothed round-trip time histograms per remote address or local
 * port, sampled on every established-state receive. */
#include "tool.h"

LICENSE_GPL;
const volatile bool by_remote = true;

HASH(hists, u64, struct hist, 1024);

SEC("fentry/tcp_rcv_established")
int BPF_PROG(established_rcv, struct sock *sk)
{
	static const struct hist zero;
	const struct inet_sock *inet = (struct inet_sock *)sk;
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	u64 key = by_remote ? sk->__sk_common.skc_daddr : bpf_ntohs(inet->inet_sport);
	struct hist *h;

	if (sk->__sk_common.skc_family != 2)
		return 0;
	h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h)
			return 0;
	}
	hist_add(h, tp->srtt_us >> 3);
	return 0;
}
