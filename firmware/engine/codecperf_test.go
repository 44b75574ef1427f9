package engine

import (
	"net/netip"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest"
	"spanrec/firmware/capture/capturetest/simcall"
	"spanrec/firmware/capture/capturetest/simcall/corpus"
	"spanrec/media/srtpdec/srtptest"
)

// pathVariant is a kind of call whose steady per-packet path is measured:
// its codec, its payloads and whether its RTP is SRTP.
type pathVariant struct {
	name     string
	call     simcall.Call
	step     uint32 // RTP timestamp per packet
	payloads func(t testing.TB) [][]byte
	suite    string // SRTP suite; "" for RTP
}

func pathVariants() []pathVariant {
	ulaw := func(t testing.TB) [][]byte {
		a, _ := corpus.Audio(t, false, 6)
		var out [][]byte
		for i := 0; i+160 <= len(a); i += 160 {
			out = append(out, a[i:i+160])
		}
		return out
	}
	g722 := func(t testing.TB) [][]byte {
		c, _ := speech16k(t)
		b := g722Encode(c)
		var out [][]byte
		for i := 0; i+160 <= len(b); i += 160 {
			out = append(out, b[i:i+160])
		}
		return out
	}
	opusP := func(t testing.TB) [][]byte {
		p, _ := opusPackets(t, "caller", 16000)
		return p
	}
	g729 := func(testing.TB) [][]byte {
		out := make([][]byte, 50)
		for i := range out {
			out[i] = make([]byte, 20)
			for j := range out[i] {
				out[i][j] = byte(i*31 + j*7)
			}
		}
		return out
	}
	return []pathVariant{
		{name: "PCMU", step: 160, payloads: ulaw},
		{name: "G722", call: simcall.Call{PT: 9, Codec: "G722"}, step: 160, payloads: g722},
		{name: "Opus", call: simcall.Call{PT: 111, Codec: "opus/48000/2", Clock: 48000}, step: 960, payloads: opusP},
		{name: "PCMU-SRTP-AES_CM_128_HMAC_SHA1_80", step: 160, payloads: ulaw, suite: "AES_CM_128_HMAC_SHA1_80"},
		{name: "PCMU-SRTP-AEAD_AES_128_GCM", step: 160, payloads: ulaw, suite: "AEAD_AES_128_GCM"},
		{name: "Opus-SRTP-AES_CM_128_HMAC_SHA1_80", call: simcall.Call{PT: 111, Codec: "opus/48000/2", Clock: 48000}, step: 960, payloads: opusP, suite: "AES_CM_128_HMAC_SHA1_80"},
		{name: "G729-raw", call: simcall.Call{PT: 18}, step: 160, payloads: g729},
	}
}

// variantStream answers the variant's call in e and returns a source of
// the caller's next RTP frames, built ahead in batches (outside the
// measured time when b is set).
func variantStream(t testing.TB, e *Engine, v pathVariant) func() *capture.Frame {
	t.Helper()
	c := v.call
	c.Start, c.Talk, c.MissBYE = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC), time.Hour, true
	c.CallerAudio, c.CalleeAudio = make([]byte, 1600), make([]byte, 1600)
	if v.suite != "" {
		c.CallerCrypto = &simcall.Crypto{Suite: v.suite, Seed: 1}
		c.CalleeCrypto = &simcall.Crypto{Suite: v.suite, Seed: 2}
	}
	if c.PT == 0 && c.Codec == "" {
		c.PT = 0
	}
	res := simcall.Generate(c, simcall.Options{})
	var f capture.Frame
	f.Link = capture.LinkEthernet
	var last time.Time
	for _, p := range res.Packets {
		if p.RTP || p.TCP {
			continue
		}
		f.Time, f.Data = p.Time, capturetest.UDP(capturetest.FrameOptions{}, p.Src, p.Dst, p.Payload)
		e.Pipeline().HandleFrame(&f)
		last = p.Time
	}
	var enc *srtptest.Enc
	if v.suite != "" {
		var err error
		if enc, err = srtptest.Encryptor(v.suite, srtptest.Key(v.suite, 1)); err != nil {
			t.Fatal(err)
		}
	}
	payloads := v.payloads(t)
	src, dst := netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:30000")
	var seq uint16
	var ts uint32
	at := last
	frames := make([]capture.Frame, 4096)
	next := len(frames)
	build := func() {
		for i := range frames {
			pkt := simcall.RTP(seq, ts, 0xCA110000, c.PT, false, payloads[int(seq)%len(payloads)])
			if enc != nil {
				var err error
				if pkt, err = enc.Encrypt(nil, pkt); err != nil {
					t.Fatal(err)
				}
			}
			seq++
			ts += v.step
			at = at.Add(20 * time.Millisecond)
			frames[i] = capture.Frame{Link: capture.LinkEthernet, Time: at, Data: capturetest.UDP(capturetest.FrameOptions{}, src, dst, pkt)}
		}
		next = 0
	}
	b, _ := t.(*testing.B)
	return func() *capture.Frame {
		if next == len(frames) {
			if b != nil {
				b.StopTimer()
			}
			build()
			if b != nil {
				b.StartTimer()
			}
		}
		next++
		return &frames[next-1]
	}
}

// BenchmarkPerPacketPath measures the whole per-packet path (frame decode,
// call lookup, SRTP, decoding, resampling, DTMF detection, timeline, WAV
// or raw media file) per codec.
func BenchmarkPerPacketPath(b *testing.B) {
	for _, v := range pathVariants() {
		b.Run(v.name, func(b *testing.B) {
			e, err := Open(Options{DataDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close("bench")
			frame := variantStream(b, e, v)
			for range 500 { // warm up: codec chosen, rings filled
				e.Pipeline().HandleFrame(frame())
			}
			before := e.Summary().Pipeline.RTP
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				e.Pipeline().HandleFrame(frame())
			}
			b.StopTimer()
			if got := e.Summary().Pipeline.RTP - before; got != uint64(b.N) {
				b.Fatalf("%d of %d packets taken as the call's RTP", got, b.N)
			}
			checkVariant(b, e, v)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
		})
	}
}

// checkVariant fails when the variant's packets were not handled as it
// means them to be: SRTP that did not authenticate, audio that did not
// decode.
func checkVariant(t testing.TB, e *Engine, v pathVariant) {
	t.Helper()
	s := e.Summary().Recorder
	if s.SRTPFailed != 0 || s.BadAudio != 0 || s.Encrypted != 0 || (s.Undecodable != 0) != (v.name == "G729-raw") {
		t.Fatalf("recorder: %+v", s)
	}
}

// TestPerPacketPathAllocatesNothing: the steady per-packet path of every
// codec and of SRTP makes no allocation, the WAV's (or raw file's) block
// writes to disk included.
func TestPerPacketPathAllocatesNothing(t *testing.T) {
	for _, v := range pathVariants() {
		t.Run(v.name, func(t *testing.T) {
			e, err := Open(Options{DataDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close("test")
			frame := variantStream(t, e, v)
			for range 500 {
				e.Pipeline().HandleFrame(frame())
			}
			if n := testing.AllocsPerRun(2000, func() { e.Pipeline().HandleFrame(frame()) }); n != 0 {
				t.Errorf("%.2f allocations per packet", n)
			}
			checkVariant(t, e, v)
		})
	}
}
