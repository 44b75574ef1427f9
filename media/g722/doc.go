// Package g722 owns G.722 decoding for the recorder's per-packet hot path: a
// pure-Go decoder (no cgo, so it builds for linux/arm and linux/arm64 with
// CGO_ENABLED=0), plus an encoder used by tests and tools to synthesize calls.
//
// G.722 (ITU-T Recommendation G.722, "7 kHz audio-coding within 64 kbit/s",
// https://www.itu.int/rec/T-REC-G.722) is sub-band ADPCM: a 24-tap quadrature
// mirror filter splits 16 kHz audio into two 8 kHz sub-bands, the lower band
// is coded with 6-bit ADPCM and the higher band with 2-bit ADPCM, and each
// octet of the stream carries one sample of each (bits 7-6 the higher band,
// bits 5-0 the lower band). The decoder follows the integer arithmetic of the
// spec and of its ITU reference implementation exactly, saturations
// included, so its output is bit-exact: the tests check it against the
// Appendix II sub-band test sequences where they are available and against
// ffmpeg's decoder on real streams.
//
// # Basics
//
// Create one [Decoder] per RTP stream and decode each payload in order; the
// ADPCM predictors and the QMF carry state from one packet to the next:
//
//	dec := g722.NewDecoder(g722.Mode64k)
//	pcm := make([]int16, 2*len(payload)) // reuse across packets
//	n := dec.Decode(pcm, payload)        // n == 2*len(payload) samples at 16 kHz
//
// Decode never allocates. Call [Decoder.Reset] when the stream restarts
// (a new SSRC). A lost packet is not concealed: decoding simply goes on with
// the next payload, and because the encoder's and decoder's adaptive states
// then differ, the output differs from a loss-free decoding until they
// re-converge, a few hundred milliseconds later (about 0.3 s on speech).
//
// # The RTP clock quirk
//
// RFC 3551 registers G.722 as static payload type 9 with an RTP clock rate
// of 8000 Hz ("a=rtpmap:9 G722/8000" in SDP), although the audio is sampled
// at 16 kHz. The mismatch is historical (RFC 1890 got it wrong and it was
// kept for compatibility): the RTP timestamp advances by 8000 per second, one
// tick per octet, and each tick stands for two 16 kHz samples. A 20 ms packet
// is 160 octets, timestamp step 160, and decodes to 320 samples. Anything
// that turns timestamps into sample positions (gap filling, mixing, WAV
// writing) must use 16000 Hz for the audio and 8000 Hz for the timestamps.
//
// # Modes
//
// The spec defines three modes that share the same octet stream: mode 1
// ([Mode64k], 64 kbit/s of audio) uses all six lower-band bits; modes 2
// ([Mode56k]) and 3 ([Mode48k]) use five and four, leaving the one or two
// least significant bits to an auxiliary data channel that the decoder
// ignores. The ADPCM predictor is driven only by the four most significant
// lower-band bits in every mode, which is why the modes interoperate. RTP
// always carries whole octets and in practice mode 1; the mode cannot be
// signalled in SDP, so use [Mode64k] unless the deployment says otherwise.
//
// # Caveats
//
//   - Output is 16-bit linear PCM at 16 kHz, one channel. Two-channel G.722
//     (SDP "G722/8000/2", octets interleaved by channel) is not split here.
//   - There is no packet-loss concealment (G.722 Appendix III/IV) and no
//     8 kHz output shortcut: a caller that mixes with narrow-band audio must
//     resample.
//   - The spec's test sequences exercise the sub-band coders with the QMF
//     bypassed; the QMF is checked against ffmpeg instead. The ITU test
//     sequences are copyrighted and are not in testdata: set G722_ITU_DIR to
//     a directory with the ASCII files (T1C2.XMT, T2R2.COD, T3L2.RC1, ...) to
//     run them.
//   - The [Encoder] always produces 64 kbit/s streams and is meant for tests
//     and tools, not for the recording path.
package g722
