#!/usr/bin/env bash
# make-rules-captures.sh OUTDIR — real SIP/RTP captures, one per recording
# type of SPEC §4, for testdata/rules/ (firmware/engine/rules_test.go).
#
# Each case runs sipp UAC/UAS pairs on loopback addresses while tcpdump
# captures them; the media is real (rtp_stream of testdata/sample_*.ulaw),
# talk time is short so every pcap stays small. Addresses (see pbx.yaml):
#   127.0.0.30  the PBX              127.0.0.40:5060  trunk peer "carrier-a"
#   127.0.0.31  phone of ext 1000    127.0.0.32 ext 2001, .33 ext 1001,
#   .34 ext 1002, .35 ext 1003, .36 ext 1004
# Needs (Debian): sip-tester tcpdump; tshark optional (summary), root for tcpdump.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: make-rules-captures.sh OUTDIR}
mkdir -p "$out"; out=$(cd "$out" && pwd)
work=$(mktemp -d)
pids=()
cleanup() { local p; for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
cp "$here/testdata/sample_caller.ulaw" caller.ulaw
cp "$here/testdata/sample_callee.ulaw" callee.ulaw
sed 's/@PT@/0/g; s/@CODEC@/PCMU/g; s/@FILE@/callee.ulaw/g' "$here/testdata/rules/uas.xml" >uas.xml

# uac NAME CALLER CALLERNAME DIALED DUR_MS [HEADER...]: a UAC scenario file
# NAME.xml; each HEADER is one extra INVITE header line.
uac() {
	local name=$1 caller=$2 cname=$3 dialed=$4 dur=$5; shift 5
	local hdr; hdr=$(printf '%s\n' "$@")
	sed "s/@PT@/0/g; s/@CODEC@/PCMU/g; s/@FILE@/caller.ulaw/g; s/@CALLER@/$caller/g; s/@CALLERNAME@/$cname/g; s/@DIALED@/$dialed/g; s/@DUR@/$dur/g" \
		"$here/testdata/rules/uac.xml" |
		awk -v hdr="$hdr" '/@HDR@/ { if (hdr == "") next; n = split(hdr, h, "\n"); for (i = 1; i <= n; i++) if (h[i] != "") print "      " h[i]; next } { print }' >"$name.xml"
}

# uas IP: one-call UAS answering on IP:5060 (media port 30000), in the background.
uas() {
	timeout 60 sipp -sf uas.xml -t u1 -i "$1" -p 5060 -mi "$1" -mp 30000 -m 1 -nostdin -trace_err >"uas_$1.log" 2>&1 &
	pids+=($!)
}

# call SCEN FROM_IP FROM_PORT TO_IP: one UAC call (media port 40000).
call() {
	timeout 60 sipp -sf "$1.xml" -t u1 "$4:5060" -i "$2" -p "$3" -mi "$2" -mp 40000 \
		-m 1 -l 1 -nostdin -trace_err >"uac_$1.log" 2>&1 || { echo "$1: sipp failed" >&2; cat "uac_$1.log" >&2; exit 1; }
}

# capture NAME HOST...: start tcpdump for the hosts' UDP traffic.
capture() {
	local name=$1; shift
	local f="" h
	for h in "$@"; do f="${f:+$f or }host $h"; done
	tcpdump -i lo -U -w "$out/$name.pcap" "udp and ($f)" >"td_$name.log" 2>&1 &
	tdp=$!
	pids+=($tdp)
	sleep 1
}

# finish NAME: wait for the UASes, then stop tcpdump.
finish() {
	local p
	for p in "${pids[@]}"; do [ "$p" = "$tdp" ] || wait "$p" || { echo "$1: sipp UAS failed" >&2; exit 1; }; done
	sleep 0.3
	kill "$tdp"; wait "$tdp" 2>/dev/null || true
	pids=()
	printf '%-16s %7d bytes' "$1.pcap" "$(stat -c %s "$out/$1.pcap")"
	if command -v tshark >/dev/null; then
		printf '  %s SIP  %s RTP streams' \
			"$(tshark -r "$out/$1.pcap" -Y 'sip.Method == "INVITE"' 2>/dev/null | wc -l)" \
			"$(tshark -r "$out/$1.pcap" -d udp.port==30000,rtp -d udp.port==40000,rtp -q -z rtp,streams 2>/dev/null | grep -c g711U || true)"
	fi
	echo
}

# a) queue: caller 2001 dials queue 600 at the PBX; 0.8 s later (talk time
#    shortened to keep the pcap small) the queue
#    calls agent 1000 (caller ID passed through, X-Queue header).
uac queue_caller 2001 Carol 600 2500
uac queue_agent 2001 Carol 1000 1500 "X-Queue: support" "Alert-Info: <http://127.0.0.30>;info=queue-support"
capture queue 127.0.0.30 127.0.0.31 127.0.0.32
uas 127.0.0.30; uas 127.0.0.31; sleep 0.5
call queue_caller 127.0.0.32 5060 127.0.0.30 &
c1=$!
sleep 0.8
call queue_agent 127.0.0.30 5062 127.0.0.31
wait "$c1"
finish queue

# b) conference: 1001 dials room 800.
uac conference 1001 Dave 800 2000
capture conference 127.0.0.30 127.0.0.33
uas 127.0.0.30; sleep 0.5
call conference 127.0.0.33 5060 127.0.0.30
finish conference

# c) trunk inbound: carrier-a (127.0.0.40:5060) sends a call for 1002 to the PBX.
uac trunk_in 0301234567 Erin 1002 2000
capture trunk_in 127.0.0.40 127.0.0.30
uas 127.0.0.30; sleep 0.5
call trunk_in 127.0.0.40 5060 127.0.0.30
finish trunk_in

#    trunk outbound: 1003 dials 0049301234567, the PBX sends it to carrier-a.
uac trunk_out 1003 Frank 0049301234567 2000
capture trunk_out 127.0.0.30 127.0.0.40
uas 127.0.0.40; sleep 0.5
call trunk_out 127.0.0.30 5060 127.0.0.40
finish trunk_out

# d) paging/intercom: 1000 pages 1004; the PBX's INVITE to 1004 asks for auto-answer.
uac paging 1000 Alice 1004 2000 "Alert-Info: <http://127.0.0.1>;info=alert-autoanswer" "Call-Info: <sip:127.0.0.30>;answer-after=0"
capture paging 127.0.0.30 127.0.0.36
uas 127.0.0.36; sleep 0.5
call paging 127.0.0.30 5060 127.0.0.36
finish paging

# e) voicemail: 1000 dials *97.
uac voicemail 1000 Alice '*97' 2000
capture voicemail 127.0.0.31 127.0.0.30
uas 127.0.0.30; sleep 0.5
call voicemail 127.0.0.31 5060 127.0.0.30
finish voicemail

# f) internal: 1000 calls 1005.
uac internal 1000 Alice 1005 2000
capture internal 127.0.0.31 127.0.0.30
uas 127.0.0.30; sleep 0.5
call internal 127.0.0.31 5060 127.0.0.30
finish internal

# g) internal without a rule: 1001 calls 1005.
uac internal_norule 1001 Dave 1005 2000
capture internal_norule 127.0.0.33 127.0.0.30
uas 127.0.0.30; sleep 0.5
call internal_norule 127.0.0.33 5060 127.0.0.30
finish internal_norule
