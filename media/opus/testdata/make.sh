#!/bin/sh
# Regenerates the Opus fixtures of media/opus: for each case a short Ogg Opus
# file made by opusenc or ffmpeg (libopus), and libopus's own decoding of it,
# mono, at one or more of the recorder's rates (NAME.RATE.s16: 16-bit
# little-endian, pre-skip kept, so sample i of the oracle is sample i of
# Decoder's output). Then the fuzz seed corpus from the new files.
#
# Needs: opus-tools, ffmpeg, sox, espeak-ng, a C compiler and libopus-dev
#   apt-get install -y opus-tools ffmpeg sox espeak-ng gcc libopus-dev
# The tests need none of them. Run from anywhere: sh media/opus/testdata/make.sh
set -eu
# sox -R -D: repeatable, no dither, so that a rerun makes the same files.
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cc -O2 -o "$tmp/oracle" oracle.c -lopus -lm

# Sources, 48 kHz 16-bit: 0.6 s of speech (mono and a two-voice stereo), the
# same speech around 0.6 s of digital silence (for DTX), 0.6 s of a synthetic
# stereo "music" with content up to 11 kHz, stereo speech then music (for mode
# switches), and three tones.
espeak-ng -v en-us -s 150 -w "$tmp/en.wav" "The quick brown fox jumps over the lazy dog."
espeak-ng -v de -s 140 -p 30 -w "$tmp/de.wav" "Guten Tag, hier spricht die Aufnahme."
sox -R -D "$tmp/en.wav" -r 48000 -b 16 "$tmp/en48.wav" rate -v
sox -R -D "$tmp/de.wav" -r 48000 -b 16 "$tmp/de48.wav" rate -v
sox -R -D "$tmp/en48.wav" "$tmp/speech.wav" trim 0.1 0.6
sox -R -D "$tmp/de48.wav" "$tmp/speech_de.wav" trim 0.1 0.6
sox -R -D -M "$tmp/speech.wav" "$tmp/speech_de.wav" "$tmp/stereo.wav"
sox -R -D "$tmp/en48.wav" "$tmp/s1.wav" trim 0.1 0.3
sox -R -D "$tmp/en48.wav" "$tmp/s2.wav" trim 0.9 0.4
sox -R -D -n -r 48000 -b 16 -c 1 "$tmp/sil.wav" trim 0 0.6
sox -R -D "$tmp/s1.wav" "$tmp/sil.wav" "$tmp/s2.wav" "$tmp/speech_dtx.wav"
sox -R -D -n -r 48000 -b 16 -c 2 "$tmp/m1.wav" synth 0.3 pluck C3 pluck E4 synth 0.3 sine mix 7000
sox -R -D -n -r 48000 -b 16 -c 2 "$tmp/m2.wav" synth 0.3 sawtooth 220 square 660 synth 0.3 sine mix 11000 tremolo 5 40
sox -R -D "$tmp/m1.wav" "$tmp/m2.wav" "$tmp/music.wav" remix 1v0.8,2v0.2 1v0.3,2v0.7 norm -3
sox -R -D "$tmp/music.wav" "$tmp/music_mono.wav" remix 1,2 norm -3
sox -R -D "$tmp/stereo.wav" "$tmp/music.wav" "$tmp/switch.wav" # speech, then music
sox -R -D -n -r 48000 -b 16 -c 1 "$tmp/tones.wav" synth 0.6 sine 1000 synth 0.6 sine mix 6000 synth 0.6 sine mix 11000 vol 0.3

rm -f ./*.opus ./*.s16
SIG_NB="--set-ctl-int 4008=1101" # OPUS_SET_BANDWIDTH
SIG_MB="--set-ctl-int 4008=1102"
SIG_WB="--set-ctl-int 4008=1103"
SIG_SWB="--set-ctl-int 4008=1104"
SIG_FB="--set-ctl-int 4008=1105"
DTX="--set-ctl-int 4016=1"                     # OPUS_SET_DTX
FEC="--set-ctl-int 4012=1 --expect-loss 20"    # OPUS_SET_INBAND_FEC

# enc NAME SOURCE RATES OPUSENC-ARGS...
enc() {
	name=$1 src=$2 rates=$3
	shift 3
	opusenc --quiet --serial 1 --discard-comments "$@" "$tmp/$src.wav" "$name.opus"
	oracle "$name" "$rates"
}
# ffenc NAME SOURCE RATES FFMPEG-ARGS...
ffenc() {
	name=$1 src=$2 rates=$3
	shift 3
	ffmpeg -loglevel error -y -i "$tmp/$src.wav" -c:a libopus "$@" -map_metadata -1 -fflags +bitexact -flags:a +bitexact "$name.opus"
	oracle "$name" "$rates"
}
oracle() {
	for r in $2; do
		"$tmp/oracle" "$1.opus" "$r" "$1.$r.s16"
	done
}

enc silk-nb-20-m     speech     "8000 48000"       --speech --bitrate 12 $SIG_NB
enc silk-mb-20-m     speech     "16000"            --speech --bitrate 14 $SIG_MB
enc silk-wb-20-m     speech     "8000 16000 48000" --speech --bitrate 20 $SIG_WB
enc silk-wb-60-m     speech     "16000"            --speech --bitrate 20 $SIG_WB --framesize 60
enc silk-wb-10-s     stereo     "16000"            --speech --bitrate 32 $SIG_WB --framesize 10
enc silk-wb-20-fec-m speech     "16000"            --speech --bitrate 20 $SIG_WB $FEC
enc silk-wb-20-cbr-m speech     "8000"             --speech --bitrate 20 $SIG_WB --hard-cbr
enc silk-wb-20-dtx-m speech_dtx "16000"            --speech --bitrate 20 $SIG_WB $DTX
enc hyb-swb-20-m     speech     "16000"            --speech --bitrate 24 $SIG_SWB
enc hyb-fb-20-m      speech     "8000 48000"       --speech --bitrate 32 $SIG_FB
enc hyb-fb-60-m      speech     "16000"            --speech --bitrate 32 $SIG_FB --framesize 60
enc hyb-fb-10-s      stereo     "16000"            --speech --bitrate 40 $SIG_FB --framesize 10
enc hyb-fb-20-dtx-m  speech_dtx "16000"            --speech --bitrate 32 $SIG_FB $DTX
enc celt-fb-20-m     music_mono "48000"            --music --bitrate 64
enc celt-fb-20-s     music      "16000"            --music --bitrate 128
enc celt-fb-2.5-m    music_mono "48000"            --music --bitrate 96 --framesize 2.5
enc celt-fb-5-s      music      "8000"             --music --bitrate 128 --framesize 5
enc celt-fb-40-s     music      "16000"            --music --bitrate 96 --framesize 40
enc celt-fb-20-dtx-m speech_dtx "16000"            --music --bitrate 48 $DTX
enc switch-silk-hyb-m switch   "16000"            --bitrate 12
enc switch-hyb-celt-m switch   "16000"            --bitrate 16
ffenc celt-nb-10-m   music_mono "8000"             -application lowdelay -b:a 32k -cutoff 4000 -frame_duration 10
# Low-rate stereo CELT uses intensity stereo with phase inversion: the mono
# downmix differs from libopus's mono decoder (see doc.go).
ffenc celt-fb-2.5-s-ms music    "8000"             -application lowdelay -b:a 64k -frame_duration 2.5
# Equal tones at 1, 6 and 11 kHz for the aliasing test (no oracle needed).
enc tones-celt-fb-20-m tones      ""                 --music --bitrate 128
enc tones-hyb-fb-20-m  tones      ""                 --speech --bitrate 32 $SIG_FB

# The oracle is libopus's decoder as opus-tools uses it: at 48 kHz its output
# after the pre-skip equals opusdec's.
for f in silk-wb-20-m hyb-fb-20-m celt-fb-20-m celt-fb-2.5-m; do
	opusdec --quiet --rate 48000 --no-dither "$f.opus" "$tmp/$f.raw"
	skip=$(od -An -tu2 -j38 -N2 "$f.opus" | tr -d ' ') # OpusHead pre-skip: page header 27 + 1 lacing byte + 10
	tail -c +$((skip * 2 + 1)) "$f.48000.s16" | cmp -n "$(wc -c <"$tmp/$f.raw")" - "$tmp/$f.raw"
done

cd ..
OPUS_WRITE_FUZZ_SEEDS=1 go test -run '^TestWriteFuzzSeeds$' -count=1 .
ls -l testdata
