#!/usr/bin/env bash
# A software SPAN port for live tests and demos: two SIP hosts in network
# namespaces joined by a veth pair; every frame host B sends or receives is
# mirrored (tc u32 + mirred) to interface span0 in a third namespace, where
# the recorder listens — like a switch's mirror port. Needs root, iproute2.
#   scripts/span-lab.sh up [PREFIX]    PREFIX-a (192.0.2.1), PREFIX-b (192.0.2.2), PREFIX-rec (span0)
#   scripts/span-lab.sh down [PREFIX]
# Then: ip netns exec PREFIX-rec bin/spanrec run --iface span0 --data var
set -eu
cmd=${1:-up}; p=${2:-span}
case $cmd in
up)
	ip netns add "$p-a"; ip netns add "$p-b"; ip netns add "$p-rec"
	ip link add "$p-va" type veth peer name "$p-vb"
	ip link set "$p-va" netns "$p-a"; ip link set "$p-vb" netns "$p-b"
	ip -n "$p-a" addr add 192.0.2.1/24 dev "$p-va"; ip -n "$p-b" addr add 192.0.2.2/24 dev "$p-vb"
	for n in a b rec; do ip -n "$p-$n" link set lo up; done
	ip -n "$p-a" link set "$p-va" up; ip -n "$p-b" link set "$p-vb" up
	ip link add "$p-mir" type veth peer name span0
	ip link set "$p-mir" netns "$p-b"; ip link set span0 netns "$p-rec"
	ip -n "$p-b" link set "$p-mir" up; ip -n "$p-rec" link set span0 up
	ip netns exec "$p-b" tc qdisc add dev "$p-vb" clsact
	for dir in ingress egress; do
		ip netns exec "$p-b" tc filter add dev "$p-vb" "$dir" protocol all u32 match u32 0 0 action mirred egress mirror dev "$p-mir"
	done
	echo "SPAN lab up: $p-a 192.0.2.1 <-> $p-b 192.0.2.2, mirror port span0 in $p-rec";;
down)
	for n in a b rec; do ip netns del "$p-$n" 2>/dev/null || true; done;;
*) echo "usage: $0 up|down [PREFIX]" >&2; exit 2;;
esac
