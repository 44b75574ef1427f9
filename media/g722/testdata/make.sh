#!/bin/sh
# Regenerates the G.722 fixtures of media/g722 with ffmpeg's G.722 encoder and
# decoder, an implementation independent of ours. The tests only read the
# committed files, so they run without ffmpeg.
#
#   <name>.g722         raw G.722 octets, encoded by ffmpeg (64 kbit/s)
#   <name>.pcm          ffmpeg's decoding of <name>.g722 in mode 1, s16le 16 kHz
#   sweep.src.pcm       the input of sweep.g722, to check our encoder too
#   ffmpeg.sha256       SHA-256 of ffmpeg's decoding of each <name>.g722 in
#                       modes 2 and 3 (bits_per_codeword 7 and 6), as
#                       "<hex>  <name>.mode<N>.pcm"
#
# Needs ffmpeg, sox and espeak-ng (Debian: apt-get install ffmpeg sox espeak-ng).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

raw="-t raw -r 16000 -e signed-integer -b 16 -c 1 -L"

# A logarithmic sweep over the whole 50 Hz - 7.9 kHz band: both sub-bands and
# the QMF transition region around 4 kHz.
sox -R -n $raw "$tmp/sweep.raw" synth 0.5 sine 50/7900 gain -1
# Loud white noise: large differences, fast scale-factor adaptation.
sox -R -n $raw "$tmp/noise.raw" synth 0.25 whitenoise gain -2
# A full-scale 1 kHz square wave, clipped: saturation in the predictors,
# LIMIT and the output stage.
sox -R -n $raw "$tmp/square.raw" synth 0.25 square 1000 gain 0
# Speech, resampled to 16 kHz.
espeak-ng -v en -s 150 -w "$tmp/speech.wav" "Recording is on. G seven twenty two sounds wide."
sox -R "$tmp/speech.wav" $raw "$tmp/speech.raw" rate -v 16000 trim 0 1.0 norm -1

cp "$tmp/sweep.raw" sweep.src.pcm
: >ffmpeg.sha256
for name in sweep noise square speech; do
	ffmpeg -v error -y -f s16le -ar 16000 -ac 1 -i "$tmp/$name.raw" -acodec g722 -f g722 "$name.g722"
	ffmpeg -v error -y -f g722 -i "$name.g722" -f s16le -acodec pcm_s16le "$name.pcm"
	for mode in 2 3; do
		ffmpeg -v error -y -bits_per_codeword $((9 - mode)) -f g722 -i "$name.g722" \
			-f s16le -acodec pcm_s16le "$tmp/$name.mode$mode.pcm"
		(cd "$tmp" && sha256sum "$name.mode$mode.pcm") >>ffmpeg.sha256
	done
done
ls -l
