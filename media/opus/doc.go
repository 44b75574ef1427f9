// Package opus decodes the Opus audio of recorded calls (RFC 6716, carried in
// RTP as RFC 7587 describes: always "opus/48000/2" in SDP, RTP clock 48 kHz)
// into mono 16-bit PCM at the recording's rate, and says exactly what each
// packet is, so that nothing but decoded audio is written as audio.
//
// The codec is github.com/pion/opus v0.1.0 (pure Go, MIT), so the firmware
// still builds with CGO_ENABLED=0 for linux/arm and linux/arm64. This package
// adds the framing checks, the timeline arithmetic, the output format and the
// fixes for what the library gets wrong, and records what it does not do.
//
// # Basics
//
// [ParsePacket] reads a packet's TOC byte and framing (RFC 6716 §3.1, §3.2)
// into a [PacketInfo]: mode, bandwidth, channels, frame count and the exact
// duration (Samples48 is the RTP timestamp increment). It rejects, with
// [ErrInvalidPacket], any packet that breaks a rule of RFC 6716 §3.4
// ([R1]..[R7]), so garbage (a mis-classified stream, a corrupt payload) is
// not mistaken for audio. It does not allocate.
//
// [NewDecoder] makes a [Decoder] for one stream at 8000, 16000 or 48000 Hz.
// [Decoder.Decode] writes exactly PacketInfo.Samples(rate) samples per packet
// at the position the RTP timestamp gives it: the output is aligned sample for
// sample with libopus's (no added delay). Stereo is downmixed by the library
// (SILK: the mid channel; CELT: the mean of both), and a stream wider than the
// output rate is band-limited by the decoder before decimation, as libopus
// does when opened at that rate (CELT in the MDCT domain; SILK with libopus's
// resampler FIR): aliases of 6 and 11 kHz tones are 90-110 dB (CELT) and
// 53-75 dB (Hybrid) below the signal at 8 and 16 kHz. Decode does not
// allocate within a mode; the library does for packets with in-band FEC and
// on a switch from CELT to SILK or Hybrid (below).
//
//	dec, _ := opus.NewDecoder(8000)
//	pcm := make([]int16, 960) // 120 ms at 8 kHz, the longest packet
//	n, err := dec.Decode(pcm, rtpPayload)
//	// err != nil: nothing written; for all but ErrInvalidPacket,
//	// ParsePacket(rtpPayload).Duration is the gap to mark.
//
// # What is decoded
//
// Measured against libopus 1.3.1 (opusenc, ffmpeg and libopus's decoder as
// oracle; testdata/make.sh makes the fixtures the tests use):
//
//   - All 32 configurations of RFC 6716 Table 2, mono and stereo: SILK NB, MB
//     and WB at 10, 20, 40 and 60 ms; Hybrid SWB and FB at 10 and 20 ms; CELT
//     NB, WB, SWB and FB at 2.5, 5, 10 and 20 ms.
//   - Framing codes 0-3: two-frame packets and code 3 packets (libopus sends
//     40 and 60 ms Hybrid and CELT as 2 or 3 frames of 20 ms), CBR with
//     padding (opusenc --hard-cbr), VBR, constrained VBR.
//   - Mode and bandwidth switches within a stream, with the RFC 6716 §4.5
//     redundancy frames.
//   - SNR against libopus's own output at the same rate: SILK and Hybrid
//     44-64 dB, CELT 87-119 dB, the same on amd64, arm and arm64. Not
//     bit-exact (the library works in float32), but the difference is far
//     below audibility.
//
// # What is not, and caveats
//
//   - DTX. A packet whose frames are all empty or one byte
//     ([PacketInfo].DTX; the 1-2 byte packets of -dtx) carries no audio.
//     Decode writes digital silence for its duration; libopus would write
//     its concealment (a comfort noise of -65 to -95 dBFS). The library would
//     decode such SILK and Hybrid frames as if they were coded, which
//     corrupts its gain state (the next real frame came out up to 7 times too
//     loud), so Decode never hands them to it. CELT ones are passed on: its
//     CELT decoder treats them as libopus does.
//   - Packet loss concealment: none. The library has no PLC entry point, so
//     a lost packet is a gap the caller fills (silence) from the RTP
//     timestamps. Decoding resumes from the state before the gap. At 10 %
//     loss the received packets come out about as close to a lossless
//     decoding as libopus's with PLC (SILK and Hybrid are predictive:
//     waveform SNR 2.5-4.4 dB against libopus's 5.1-5.5 dB; CELT 17 dB
//     against 19 dB), and with transients of the same size (the worst
//     packet has 12-16 times the energy of a lossless decoding; libopus
//     11-16).
//   - In-band FEC (LBRR): the primary audio of FEC-carrying streams decodes
//     normally, but the redundant copy cannot be used to recover a lost
//     packet: the library parses it into a throwaway decoder and discards it,
//     which costs 25 allocations (10.7 kB) per packet and doubles the
//     decoding time. Streams negotiated with useinbandfec=1 carry LBRR.
//   - A switch from CELT to SILK or Hybrid makes the library build a new
//     SILK decoder: about 40 allocations (12 kB), once per switch.
//   - Stereo to mono: at low bitrates CELT codes high bands as intensity
//     stereo with phase inversion. libopus's mono decoder ignores the
//     inversion (RFC 8251 §9); the library does not, so those bands partly
//     cancel in the downmix: 14-25 dB SNR against libopus's mono output on
//     such streams (fixture celt-fb-2.5-s-ms), 90 dB and more at 128 kbit/s.
//   - Output: mono only, at 8000, 16000 or 48000 Hz only.
//   - Not applicable to RTP, not handled: multistream packets (RFC 7845
//     channel mapping families 1 and 255), the Ogg container.
//
// [ErrUnsupported] is returned for a configuration the table in decoder.go
// marks as not decoded ([Supported]); for pion/opus v0.1.0 it marks none.
// [ErrCorrupt] is returned when the library fails on (or panics over) a
// packet whose framing is valid, and the Decoder is reset. In practice it
// does not happen: fuzzing and 450 000 mutated packets through long-lived
// decoders found no panic and no library error. Like libopus, the library
// decodes any payload with valid framing, so corrupt frame data comes out as
// noise: which streams are Opus is for the SDP and the payload type to say.
//
// # Alternatives
//
// github.com/thesyncim/gopus v0.1.0 (BSD-3-Clause, pure Go with optional
// amd64/arm64 assembly, first tagged release, builds for linux/arm GOARM=7
// without cgo) matched libopus far more closely on the same streams: SILK
// bit-exact, Hybrid and CELT 130-160 dB, DTX streams 60-85 dB, the
// stereo-to-mono downmix as libopus does it (150 dB); it also has PLC and
// FEC entry points (not evaluated here) and was 1.2-1.9 times faster. But it is a much larger dependency
// (about 700 source files) and allocates 2-17 times per packet when
// downmixing stereo SILK or Hybrid. Newer pion/opus commits are not on the
// module proxy (v0.1.0 is its only version). The other pure-Go decoders found
// (darui3018823/opus, kazzmir/opus-go and gotranspile/opus, the last two
// machine translations of libopus) are not on the module proxy.
package opus
