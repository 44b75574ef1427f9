#!/usr/bin/env bash
# A software switch with a SPAN session, for live tests with real SIP peers.
# Namespace PREFIX-sw holds bridge br0; each host PREFIX-NAME hangs off one
# switch port (its eth0, IPv4 only, with a default route: linphonec opens no
# SIP port without one). Every frame entering the switch from a host port is
# mirrored once (tc u32 + mirred on the port's ingress; cls_matchall is not
# on every kernel) to span0 in PREFIX-rec, like a switch's mirror port.
# Needs root and iproute2. No interface is ever made in the caller's
# namespace, so switches with different prefixes can run side by side.
#   span-switch.sh up PREFIX [NAME=ADDR[/LEN] ...]
#       default hosts: a=192.0.2.1 b=192.0.2.2 p=192.0.2.10 (LEN 24)
#   span-switch.sh down PREFIX      removes every namespace PREFIX-*
# Then: ip netns exec PREFIX-a baresip ...; ip netns exec PREFIX-rec spanrec run --iface span0
set -eu
usage() { echo "usage: $0 up PREFIX [NAME=ADDR[/LEN] ...] | down PREFIX" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1; p=$2; shift 2
case $p in ''|*[!A-Za-z0-9_]*) echo "bad prefix '$p'" >&2; exit 2;; esac

down() {
	ip netns list | while read -r ns _; do
		case $ns in "$p"-*) ip netns del "$ns" 2>/dev/null || true;; esac
	done
}

# quiet turns IPv6 off in a namespace: no router solicitations, DAD or MLD
# frames in the capture, only what the peers send.
quiet() {
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1 || true
}

case $cmd in
up)
	[ $# -gt 0 ] || set -- a=192.0.2.1 b=192.0.2.2 p=192.0.2.10
	for h in "$@"; do
		n=${h%%=*}
		case $n in sw|rec|'') echo "host name '$n' is reserved" >&2; exit 2;; esac
		[ ${#n} -le 12 ] || { echo "host name '$n' too long (12 characters at most)" >&2; exit 2; }
		[ "$n" != "$h" ] || { echo "host '$h' needs NAME=ADDR" >&2; exit 2; }
	done
	trap 'down' ERR
	ip netns add "$p-sw"; ip netns add "$p-rec"; quiet "$p-sw"; quiet "$p-rec"
	ip -n "$p-sw" link set lo up; ip -n "$p-rec" link set lo up
	ip -n "$p-sw" link add br0 type bridge
	# Forward at once (no STP listening/learning delay) and never age out.
	ip -n "$p-sw" link set br0 type bridge stp_state 0 forward_delay 0
	ip -n "$p-sw" link set br0 up
	ip -n "$p-sw" link add mirror type veth peer name span0 netns "$p-rec"
	ip -n "$p-sw" link set mirror up; ip -n "$p-rec" link set span0 up
	for h in "$@"; do
		n=${h%%=*}; addr=${h#*=}
		case $addr in */*) ;; *) addr=$addr/24;; esac
		ip netns add "$p-$n"; quiet "$p-$n"; ip -n "$p-$n" link set lo up
		ip -n "$p-$n" link add eth0 type veth peer name "port-$n" netns "$p-sw"
		ip -n "$p-$n" addr add "$addr" dev eth0; ip -n "$p-$n" link set eth0 up
		ip -n "$p-$n" route add default dev eth0
		ip -n "$p-sw" link set "port-$n" master br0; ip -n "$p-sw" link set "port-$n" up
		ip netns exec "$p-sw" tc qdisc add dev "port-$n" clsact
		ip netns exec "$p-sw" tc filter add dev "port-$n" ingress protocol all u32 match u32 0 0 \
			action mirred egress mirror dev mirror
		echo "host $p-$n $addr"
	done
	echo "mirror span0 in $p-rec";;
down) down;;
*) usage;;
esac
