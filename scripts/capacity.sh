#!/usr/bin/env bash
# Capacity of `spanrec run` on a software SPAN port: a generated capture of
# many concurrent G.711 calls is replayed with tcpreplay onto the mirror at
# increasing packet rates; for each rate it prints the kernel drops seen by
# spanrec, the daemon's CPU time per 1,000 packets/s and its write volume:
# bytes passed to write calls (wchar) and bytes sent to storage
# (write_bytes, /proc/PID/io), each against the audio bytes the replay's
# recordings hold (their WAV sizes), as a ratio. At the end it prints the
# daemon's peak resident memory, and that above its idle size per call.
#   sudo scripts/capacity.sh [CALLS] [RATES...]     (default 1000 calls; 25000 50000 100000 pps)
#   TALK (default 10s) is each call's talk time; STAGGER (default 5ms) the
#   time between call starts. With STAGGER=0.1ms a capture of CALLS calls
#   runs at CALLS*100 packets/s from start to end, so replaying it at that
#   rate keeps the calls' media in real time throughout.
#   RING_MB sets the kernel capture ring (capture.ring_mb, default 8 MiB).
#   A rate of "real" replays the capture at its own timing (tcpreplay
#   --multiplier=1: every call's packets 20 ms apart, as on a real network);
#   a packet rate evens the gaps out, which runs the calls' media faster than
#   real time while calls start and end, so their timelines hold more.
#   WEB=1: with the web UI on and an admin's page polling it all along (scripts/webpoll, a round of
#   pages every WEB_INTERVAL, default 1s; 0 = flat out).
#   SPANREC=/path/to/spanrec sudo -E scripts/capacity.sh ...   (a binary built elsewhere)
# Needs root, iproute2, tcpreplay. Traffic stays inside the lab's namespaces;
# the data directory is under TMPDIR (a real disk, for write_bytes).
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-1000}; shift || true
rates=${*:-25000 50000 100000}
prefix=cap$$
work=$(mktemp -d)
trap 'kill ${poller:-} $daemon 2>/dev/null; wait $daemon 2>/dev/null; scripts/span-lab.sh down $prefix; rm -rf "$work"' EXIT
if [ -n "${SPANREC:-}" ]; then cp "$SPANREC" "$work/spanrec"; else CGO_ENABLED=0 go build -o "$work/spanrec" ./cmd/spanrec; fi
go run ./scripts/gencalls -calls "$calls" -talk "${TALK:-10s}" -stagger "${STAGGER:-5ms}" -o "$work/load.pcap"
scripts/span-lab.sh up $prefix >/dev/null
# Room for every call's files and state (the defaults are the smallest
# board's).
ulimit -n $((2 * calls + 1024))
printf 'limits:\n  open_files: %d\ncalls:\n  max_calls: %d\n' $((2 * calls + 1024)) $((2 * calls + 1000)) >"$work/config.yaml"
[[ ${RING_MB:-} ]] && printf 'capture:\n  ring_mb: %d\n' "$RING_MB" >>"$work/config.yaml"
if [[ ${WEB:-} ]]; then
	go build -o "$work/webpoll" ./scripts/webpoll && mkdir -p "$work/data" && "$work/webpoll" -data "$work/data" -add-user
	printf 'web:\n  listen: "127.0.0.1:8443"\n' >>"$work/config.yaml"
fi
ip netns exec $prefix-rec "$work/spanrec" run --config "$work/config.yaml" --data "$work/data" --iface span0 --log-level warn &
daemon=$!
for _ in $(seq 100); do "$work/spanrec" status --data "$work/data" >/dev/null 2>&1 && break; sleep 0.1; done
[[ ${WEB:-} ]] && { ip netns exec $prefix-rec "$work/webpoll" -url https://127.0.0.1:8443 -interval "${WEB_INTERVAL:-1s}" & poller=$!; }
clk=$(getconf CLK_TCK)
# proc FILE FIELD: FIELD of the daemon's /proc/PID/FILE (io: wchar,
# write_bytes in bytes; status: VmRSS, VmHWM in KiB).
proc() { awk -v f="$2:" '$1 == f {print $2}' /proc/$daemon/$1; }
idle_kb=$(proc status VmRSS)
# audio: bytes of the WAV files recorded so far.
audio() { find "$work/data" -name '*.wav' -printf '%s\n' 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'; }
printf '%10s %10s %12s %12s %10s %12s %22s %10s %10s %10s %12s %12s\n' target_pps sent_pps frames kernel_drops cpu_s core_pct core_pct_per_1000pps audio_mb wchar_mb disk_mb wchar/audio disk/audio
for pps in $rates; do
	before=$("$work/spanrec" status --data "$work/data" --json)
	read -r u0 s0 < <(awk '{print $14, $15}' /proc/$daemon/stat)
	w0=$(proc io wchar); d0=$(proc io write_bytes); a0=$(audio)
	if [ "$pps" = real ]; then speed=--multiplier=1; else speed=--pps=$pps; fi
	out=$(ip netns exec $prefix-a tcpreplay -q -i $prefix-va "$speed" "$work/load.pcap" 2>&1)
	sleep 2 # let the daemon drain its ring
	read -r u1 s1 < <(awk '{print $14, $15}' /proc/$daemon/stat)
	sleep 1 # the last periodic sync
	w1=$(proc io wchar); d1=$(proc io write_bytes); a1=$(audio)
	after=$("$work/spanrec" status --data "$work/data" --json)
	sent=$(grep -oE 'Rated: [0-9.]+ Bps, [0-9.]+ Mbps, [0-9.]+ pps' <<<"$out" | awk '{print $6}' || true)
	secs=$(grep -oE 'sent in [0-9.]+ seconds' <<<"$out" | awk '{print $3}' || true)
	python3 - "$before" "$after" "$pps" "${sent:-0}" "${secs:-0}" "$((u1 + s1 - u0 - s0))" "$clk" "$((a1 - a0))" "$((w1 - w0))" "$((d1 - d0))" <<'PY'
import json, sys
b, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
pps, sent, secs, ticks, clk = sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
frames = a["frames"] - b["frames"]
drops = sum(i["kernel_drops"] for i in a["interfaces"]) - sum(i["kernel_drops"] for i in b["interfaces"])
cpu = ticks / clk
util = 100 * cpu / secs if secs else 0
per = util / (sent / 1000) if sent else 0
audio, wchar, disk = (int(x) for x in sys.argv[8:11])
mb = lambda n: n / 1e6
ratio = lambda n: f"{n / audio:.3f}x" if audio else "-"
print(f"{pps:>10} {sent:10.0f} {frames:12d} {drops:12d} {cpu:10.2f} {util:11.1f}% {per:21.3f}% {mb(audio):10.1f} {mb(wchar):10.1f} {mb(disk):10.1f} {ratio(wchar):>12} {ratio(disk):>12}")
PY
done
[[ ${WEB:-} ]] && kill -TERM $poller && wait $poller
peak_kb=$(proc status VmHWM)
echo "resident memory: idle $((idle_kb / 1024)) MiB, peak $((peak_kb / 1024)) MiB, $(((peak_kb - idle_kb) / calls)) KiB per call above idle ($calls calls)"
"$work/spanrec" status --data "$work/data"
