package srtpdec_test

import (
	"fmt"
	"testing"

	"spanrec/media/srtpdec"
	"spanrec/media/srtpdec/internal/suites"
	"spanrec/media/srtpdec/srtptest"
)

// encrypted returns n consecutive SRTP packets of one SSRC with payloads of
// payloadLen bytes, from sequence number 65536-n/2 so that they wrap.
func encrypted(tb testing.TB, suite string, key srtpdec.Key, n, payloadLen int) [][]byte {
	tb.Helper()
	enc, err := srtptest.Encryptor(suite, key)
	if err != nil {
		tb.Fatal(err)
	}
	out := make([][]byte, n)
	for i := range out {
		seq := uint16(65536 - n/2 + i)
		out[i], err = enc.Encrypt(nil, rtpPacket(0, 0x5EED, seq, uint32(i)*160, payloadLen))
		if err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// TestDecryptAllocs: in steady state (the SSRC known) Decrypt makes no
// allocation per packet, for every suite, with and without MKI, into a
// buffer and in place, across the sequence wrap.
func TestDecryptAllocs(t *testing.T) {
	for _, suite := range suites.Names() {
		for _, mkiLen := range []int{0, 4} {
			for _, inPlace := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/mki%d/inplace=%v", suite, mkiLen, inPlace), func(t *testing.T) {
					key := keysFor(suite, 1, mkiLen)[0]
					packets := encrypted(t, suite, key, 1100, 160)
					d, err := srtpdec.New(suite, []srtpdec.Key{key})
					if err != nil {
						t.Fatal(err)
					}
					buf := make([]byte, 0, 1500)
					next := 0
					decrypt := func() {
						p := packets[next]
						next++
						dst := buf
						if inPlace {
							dst = p[:0]
						}
						if _, err := d.Decrypt(dst, p); err != nil {
							t.Fatal(err)
						}
					}
					decrypt() // the first packet of the SSRC creates its state
					if n := testing.AllocsPerRun(1000, decrypt); n != 0 {
						t.Errorf("%v allocations per packet, want 0", n)
					}
				})
			}
		}
	}
}

// BenchmarkDecrypt reports the cost of one packet: a 20 ms G.711 packet
// (160-byte payload) and a 60-byte Opus packet, per suite. Each op is one
// packet; ns/packet is ns/op.
func BenchmarkDecrypt(b *testing.B) {
	for _, suite := range suites.Names() {
		for _, size := range []struct {
			name string
			n    int
		}{{"g711-160", 160}, {"opus-60", 60}} {
			b.Run(suite+"/"+size.name, func(b *testing.B) {
				key := srtptest.Key(suite, 1)
				packets := encrypted(b, suite, key, 1024, size.n)
				d, err := srtpdec.New(suite, []srtpdec.Key{key})
				if err != nil {
					b.Fatal(err)
				}
				buf := make([]byte, 0, 1500)
				b.SetBytes(int64(size.n))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := d.Decrypt(buf, packets[i%len(packets)]); err != nil {
						b.Fatal(err)
					}
					i++
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/packet")
			})
		}
	}
}
