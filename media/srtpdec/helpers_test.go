package srtpdec_test

import (
	"encoding/binary"
	"testing"

	"github.com/pion/srtp/v3"

	"spanrec/media/srtpdec"
	"spanrec/media/srtpdec/internal/suites"
	"spanrec/media/srtpdec/srtptest"
)

// rtpPacket builds a plain RTP packet (version 2, no CSRC, no extension)
// whose payload is derived from its SSRC and sequence number.
func rtpPacket(pt byte, ssrc uint32, seq uint16, ts uint32, payloadLen int) []byte {
	p := make([]byte, 12+payloadLen)
	p[0] = 0x80
	p[1] = pt
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	x := ssrc ^ uint32(seq)*2654435761
	for i := range payloadLen {
		x = x*1664525 + 1013904223
		p[12+i] = byte(x >> 24)
	}
	return p
}

// keysFor returns n deterministic keys for suite; with MKIs of mkiLen bytes
// (1, 2, ...) when mkiLen > 0.
func keysFor(suite string, n, mkiLen int) []srtpdec.Key {
	keys := make([]srtpdec.Key, n)
	for i := range keys {
		keys[i] = srtptest.Key(suite, byte(i+1))
		if mkiLen > 0 {
			keys[i].MKI = make([]byte, mkiLen)
			keys[i].MKI[mkiLen-1] = byte(i + 1)
		}
	}
	return keys
}

// pionSender is pion's own encryptor holding every key, so that a test can
// switch between MKIs within one stream (ROC state is per SSRC, shared by
// the keys, as RFC 3711 has it).
func pionSender(t testing.TB, suite string, keys []srtpdec.Key, opts ...srtp.ContextOption) *srtp.Context {
	t.Helper()
	s, ok := suites.Lookup(suite)
	if !ok {
		t.Fatalf("unknown suite %s", suite)
	}
	if len(keys[0].MKI) > 0 {
		opts = append(opts, srtp.MasterKeyIndicator(keys[0].MKI))
	}
	k := keys[0].Material
	ctx, err := srtp.CreateContext(k[:s.KeyLen], k[s.KeyLen:], s.Profile, opts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys[1:] {
		if err := ctx.AddCipherForMKI(k.MKI, k.Material[:s.KeyLen], k.Material[s.KeyLen:]); err != nil {
			t.Fatal(err)
		}
	}
	return ctx
}

// isClassified reports whether err is one of Decrypt's errors, unwrapped
// as its documentation promises.
func isClassified(err error) bool {
	for _, e := range []error{srtpdec.ErrAuth, srtpdec.ErrMKI, srtpdec.ErrShort, srtpdec.ErrMalformed, srtpdec.ErrUnsupported} {
		if err == e {
			return true
		}
	}
	return false
}
