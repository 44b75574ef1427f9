#!/bin/sh
# Makes sample_caller.opus and sample_callee.opus, the repository's sample
# speech (sample_*.ulaw) as Ogg Opus the way softphones send it: 16 kHz
# (wideband), 24 kbit/s, 20 ms frames, mono. Tests take their RTP payloads
# from these files. Needs sox and opus-tools.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for side in caller callee; do
	sox -R -D -t ul -r 8000 -c 1 "sample_$side.ulaw" -r 16000 -b 16 "$tmp/$side.wav"
	opusenc --quiet --bitrate 24 --framesize 20 --comp 10 --serial 1 "$tmp/$side.wav" "sample_$side.opus"
done
