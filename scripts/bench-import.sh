#!/usr/bin/env bash
# Import speed side by side: for each generated capture (200 and 1,000
# concurrent G.711 calls by default, built with scripts/gencalls), runs
# `spanrec import` into a fresh data dir, `tshark -q -z rtp,streams` (which
# only reads and analyses, writes no audio) and scripts/importfloor (the
# work no importer can avoid: read, G.711, write 64 KiB blocks, one fsync,
# SHA-256, Ed25519 per file), RUNS times each, and prints the median wall
# time, CPU, peak RSS, RTP packets/s and the ratios.
#   scripts/bench-import.sh                 (CALLS="200 1000" TALK=30s RUNS=3)
# Needs tshark (Debian: tshark) and GNU time (Debian: time); installs
# neither. Writes only under a temporary directory, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
calls_list=${CALLS:-200 1000}
talk=${TALK:-30s}
runs=${RUNS:-3}
for tool in tshark /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench-import: needs $tool (apt-get install tshark time)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/spanrec" ./cmd/spanrec
go build -o "$work/importfloor" ./scripts/importfloor

# measure NAME CMD...: runs CMD once, appends "NAME wall user sys maxrss_kb" to $work/times.
measure() {
	local name=$1; shift
	/usr/bin/time -o "$work/t" -f "%e %U %S %M" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
	echo "$name $(cat "$work/t")" >>"$work/times"
}

printf '%-6s %-12s %8s %8s %9s %12s %10s\n' calls tool wall_s cpu_s rss_mb rtp_pkts/s vs_tshark
for calls in $calls_list; do
	pcap="$work/calls-$calls.pcap"
	info=$(go run ./scripts/gencalls -calls "$calls" -talk "$talk" -o "$pcap")
	rtp=$(grep -oE '\(([0-9]+) RTP\)' <<<"$info" | grep -oE '[0-9]+')
	: >"$work/times"
	for _ in $(seq "$runs"); do
		rm -rf "$work/data" "$work/floor"
		sync
		measure spanrec "$work/spanrec" import --data "$work/data" "$pcap"
		measure tshark tshark -q -z rtp,streams -r "$pcap"
		measure floor "$work/importfloor" -o "$work/floor" "$pcap"
	done
	python3 - "$work/times" "$calls" "$rtp" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, wall, user, sys_, rss = line.split()
    rows.setdefault(name, []).append((float(wall), float(user) + float(sys_), int(rss)))
calls, rtp = sys.argv[2], int(sys.argv[3])
med = {n: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v), max(r[2] for r in v)) for n, v in rows.items()}
t = med["tshark"][0]
for n in ("spanrec", "tshark", "floor"):
    wall, cpu, rss = med[n]
    print(f"{calls:<6} {n:<12} {wall:8.2f} {cpu:8.2f} {rss/1024:9.1f} {rtp/wall:12,.0f} {t/wall:9.2f}x")
s, f = med["spanrec"][0], med["floor"][0]
print(f"{calls:<6} spanrec is {t/s:.2f}x faster than tshark and {s/f:.2f}x the floor ({rtp:,} RTP packets, median of {len(rows['spanrec'])} runs)")
PY
	rm -f "$pcap"
done
