/* SPDX-License-Identifier: GPL-2.0-or-later */
/* skbdrop: packets dropped in the stack, by location, reason (5.17+),
 * protocol, device and owning socket. */
#include "tool.h"

LICENSE_GPL;

struct trace_event_raw_kfree_skb___v517 { u32 reason; } __pai;
struct drop_key { u64 location; u32 reason, proto, ifindex, netns; };
HASH(drops, struct drop_key, u64, 4096);

SEC("tracepoint/skb/kfree_skb")
int dropped(struct trace_event_raw_kfree_skb *ctx)
{
	struct trace_event_raw_kfree_skb___v517 *n = (void *)ctx;
	struct sk_buff *skb = BPF_CORE_READ(ctx, skbaddr);
	struct drop_key k = { (u64)BPF_CORE_READ(ctx, location), 0, BPF_CORE_READ(ctx, protocol) };
	struct sock *sk = BPF_CORE_READ(skb, sk);
	u64 one = 1, *c;

	if (bpf_core_field_exists(n->reason))
		k.reason = BPF_CORE_READ(n, reason);
	k.ifindex = skb_ifindex(skb);
	if (sk)
		k.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	else
		k.netns = BPF_CORE_READ(skb, dev, nd_net.net, ns.inum);
	c = bpf_map_lookup_elem(&drops, &k);
	if (c)
		__sync_fetch_and_add(c, 1);
	else
		bpf_map_update_elem(&drops, &k, &one, BPF_NOEXIST);
	return 0;
}
