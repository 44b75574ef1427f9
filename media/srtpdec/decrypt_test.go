package srtpdec_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/pion/srtp/v3"

	"spanrec/media/srtpdec"
	"spanrec/media/srtpdec/internal/suites"
	"spanrec/media/srtpdec/srtptest"
)

type sent struct {
	plain, cipher []byte
}

// stream is what one sender sent: per SSRC a run of packets from a first
// sequence number, interleaved in sending order, with the key switched
// (by MKI) every switchEvery packets when there are several keys.
func stream(t *testing.T, suite string, keys []srtpdec.Key, first map[uint32]uint16, perSSRC, switchEvery int) []sent {
	t.Helper()
	ctx := pionSender(t, suite, keys)
	ssrcs := slices.Sorted(maps.Keys(first))
	var out []sent
	for i := range perSSRC {
		if len(keys) > 1 && i%switchEvery == 0 {
			if err := ctx.SetSendMKI(keys[(i/switchEvery)%len(keys)].MKI); err != nil {
				t.Fatal(err)
			}
		}
		for _, ssrc := range ssrcs {
			seq := first[ssrc] + uint16(i)
			plain := rtpPacket(0, ssrc, seq, uint32(i)*160, 160)
			c, err := ctx.EncryptRTP(nil, plain, nil)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, sent{plain, c})
		}
	}
	return out
}

// disorder returns the packets as a mirror port may deliver them: locally
// reordered (each packet swapped with one up to 7 places on), every 40th
// followed by a duplicate of the packet 10 places back, and two packets
// held back by 300 places. Deterministic.
func disorder(in []sent) []sent {
	r := rand.New(rand.NewPCG(1, 2))
	out := slices.Clone(in)
	for i := range out {
		j := min(i+r.IntN(8), len(out)-1)
		out[i], out[j] = out[j], out[i]
	}
	res := make([]sent, 0, len(out)+len(out)/40+1)
	for i, p := range out {
		res = append(res, p)
		if i >= 10 && i%40 == 0 {
			res = append(res, out[i-10])
		}
	}
	for _, at := range []int{500, 4500} { // 4500: the wrap of TestRoundTrip's first SSRC
		if at+300 < len(res) {
			late := res[at]
			res = slices.Delete(res, at, at+1)
			res = slices.Insert(res, at+300, late)
		}
	}
	return res
}

// TestRoundTrip decrypts pion-encrypted streams for every suite, with one
// key and with two keys told apart by MKI: three SSRCs (one crossing the
// sequence wrap mid-stream, one wrapping at its second packet, one not
// wrapping), thousands of packets, reordered and duplicated.
func TestRoundTrip(t *testing.T) {
	first := map[uint32]uint16{0x11111111: 65536 - 1500, 0x22222222: 65535, 0x33333333: 100}
	for _, suite := range suites.Names() {
		for _, c := range []struct {
			name         string
			nkeys, mkiLn int
		}{{"one-key", 1, 0}, {"one-key-MKI", 1, 1}, {"two-keys-MKI", 2, 4}} {
			t.Run(suite+"/"+c.name, func(t *testing.T) {
				keys := keysFor(suite, c.nkeys, c.mkiLn)
				packets := disorder(stream(t, suite, keys, first, 3000, 250))
				d, err := srtpdec.New(suite, keys)
				if err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 0, 1500)
				for i, p := range packets {
					got, err := d.Decrypt(buf, p.cipher)
					if err != nil {
						t.Fatalf("delivery %d (ssrc %x seq %d): %v", i, p.plain[8:12], binary.BigEndian.Uint16(p.plain[2:]), err)
					}
					if !bytes.Equal(got, p.plain) {
						t.Fatalf("delivery %d: wrong plaintext", i)
					}
				}
			})
		}
	}
}

// TestWrapReordered delivers the packets around a sequence wrap in a
// hand-made order: the first packets after the wrap before the last ones
// before it, duplicates on both sides.
func TestWrapReordered(t *testing.T) {
	for _, suite := range suites.Names() {
		t.Run(suite, func(t *testing.T) {
			key := srtptest.Key(suite, 3)
			enc, err := srtptest.Encryptor(suite, key)
			if err != nil {
				t.Fatal(err)
			}
			bySeq := map[uint16]sent{}
			for seq := uint16(65526); seq != 11; seq++ {
				plain := rtpPacket(8, 0xCAFE, seq, uint32(seq)*160, 160)
				c, err := enc.Encrypt(nil, plain)
				if err != nil {
					t.Fatal(err)
				}
				bySeq[seq] = sent{plain, c}
			}
			order := []uint16{65526, 65527, 65529, 65528, 1, 0, 65530, 65535, 2, 65531, 65532, 3, 65533,
				65534, 0, 65535, 4, 5, 10, 6, 9, 7, 8, 1, 65534}
			d, err := srtpdec.New(suite, []srtpdec.Key{key})
			if err != nil {
				t.Fatal(err)
			}
			for _, seq := range order {
				got, err := d.Decrypt(nil, bySeq[seq].cipher)
				if err != nil {
					t.Fatalf("seq %d: %v", seq, err)
				}
				if !bytes.Equal(got, bySeq[seq].plain) {
					t.Fatalf("seq %d: wrong plaintext", seq)
				}
			}
		})
	}
}

// TestWrongKey: a Decryptor with another key authenticates nothing, and
// neither does one with the right MKI but other key material.
func TestWrongKey(t *testing.T) {
	for _, suite := range suites.Names() {
		t.Run(suite, func(t *testing.T) {
			right := keysFor(suite, 2, 1)
			packets := stream(t, suite, right, map[uint32]uint16{7: 65000}, 1000, 100)
			wrong := keysFor(suite, 2, 1)
			wrong[0].Material, wrong[1].Material = srtptest.Key(suite, 50).Material, srtptest.Key(suite, 51).Material
			d, err := srtpdec.New(suite, wrong)
			if err != nil {
				t.Fatal(err)
			}
			otherMKI := keysFor(suite, 1, 1)
			otherMKI[0].MKI = []byte{9}
			dm, err := srtpdec.New(suite, otherMKI)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range packets {
				if _, err := d.Decrypt(nil, p.cipher); err != srtpdec.ErrAuth {
					t.Fatalf("packet %d with a wrong key: %v, want ErrAuth", i, err)
				}
				if _, err := dm.Decrypt(nil, p.cipher); err != srtpdec.ErrMKI {
					t.Fatalf("packet %d with an unknown MKI: %v, want ErrMKI", i, err)
				}
			}
		})
	}
}

// TestForgeryKeepsState: packets that fail authentication, whatever
// sequence number they claim, do not move the SSRC's rollover estimate.
func TestForgeryKeepsState(t *testing.T) {
	for _, suite := range suites.Names() {
		t.Run(suite, func(t *testing.T) {
			key := srtptest.Key(suite, 4)
			enc, _ := srtptest.Encryptor(suite, key)
			d, err := srtpdec.New(suite, []srtpdec.Key{key})
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(3, 4))
			for seq := uint16(100); seq < 400; seq++ {
				plain := rtpPacket(0, 0xBEEF, seq, 0, 160)
				c, _ := enc.Encrypt(nil, plain)
				if seq%10 == 0 {
					// A forgery far ahead: were it believed, the genuine
					// packets after it would be taken for the next ROC.
					forged := bytes.Clone(c)
					binary.BigEndian.PutUint16(forged[2:], seq+40000)
					for i := 12; i < len(forged); i++ {
						forged[i] = byte(r.Uint32())
					}
					if _, err := d.Decrypt(nil, forged); err != srtpdec.ErrAuth {
						t.Fatalf("forged packet: %v, want ErrAuth", err)
					}
				}
				got, err := d.Decrypt(nil, c)
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("seq %d after forgeries: %v", seq, err)
				}
			}
		})
	}
}

// TestBitFlips flips every bit of a genuine packet, one at a time: no
// flipped packet is accepted, each is refused with a classified error, and
// the genuine packet still decrypts afterwards.
func TestBitFlips(t *testing.T) {
	for _, suite := range suites.Names() {
		for _, mkiLen := range []int{0, 2} {
			t.Run(fmt.Sprintf("%s/mki%d", suite, mkiLen), func(t *testing.T) {
				keys := keysFor(suite, 1, mkiLen)
				p := stream(t, suite, keys, map[uint32]uint16{42: 9}, 1, 1)[0]
				d, err := srtpdec.New(suite, keys)
				if err != nil {
					t.Fatal(err)
				}
				for bit := range len(p.cipher) * 8 {
					f := bytes.Clone(p.cipher)
					f[bit/8] ^= 1 << (bit % 8)
					out, err := d.Decrypt(nil, f)
					if err == nil {
						t.Fatalf("bit %d flipped: accepted %x", bit, out)
					}
					if !isClassified(err) {
						t.Fatalf("bit %d flipped: unclassified error %v", bit, err)
					}
				}
				if got, err := d.Decrypt(nil, p.cipher); err != nil || !bytes.Equal(got, p.plain) {
					t.Fatalf("genuine packet after the flips: %v", err)
				}
			})
		}
	}
}

// TestNotSRTP: truncated packets, packets shorter than the tag, other
// protocols and garbage are refused with the matching error.
func TestNotSRTP(t *testing.T) {
	const suite = "AES_CM_128_HMAC_SHA1_80"
	keys := keysFor(suite, 1, 0)
	good := stream(t, suite, keys, map[uint32]uint16{5: 1}, 1, 1)[0].cipher
	withHeader := func(b0 byte, rest ...byte) []byte {
		return append([]byte{b0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5}, rest...)
	}
	tag := make([]byte, 10)
	cases := []struct {
		name string
		pkt  []byte
		want error
	}{
		{"empty", nil, srtpdec.ErrShort},
		{"11 bytes", good[:11], srtpdec.ErrShort},
		{"header only", good[:12], srtpdec.ErrShort},
		{"shorter than the tag", good[:12+9], srtpdec.ErrShort},
		{"payload cut", good[:len(good)-30], srtpdec.ErrAuth},
		{"tag cut", good[:len(good)-1], srtpdec.ErrAuth},
		{"empty payload, random tag", withHeader(0x80, tag...), srtpdec.ErrAuth},
		{"version 0", withHeader(0x00, tag...), srtpdec.ErrMalformed},
		{"version 1", withHeader(0x40, tag...), srtpdec.ErrMalformed},
		{"version 3", withHeader(0xC0, tag...), srtpdec.ErrMalformed},
		{"CSRCs beyond the end", withHeader(0x8F, tag...), srtpdec.ErrShort},
		{"extension header cut", withHeader(0x90, 0xBE), srtpdec.ErrShort},
		{"extension beyond the end", withHeader(0x90, append([]byte{0xBE, 0xDE, 0, 9}, tag...)...), srtpdec.ErrShort},
		{"extension leaves no room for the tag", withHeader(0x90, 0xBE, 0xDE, 0, 1, 1, 2, 3, 4, 5), srtpdec.ErrShort},
		{"bad RFC 8285 element", withHeader(0x90, append([]byte{0xBE, 0xDE, 0, 1, 0x1F, 0, 0, 0}, tag...)...), srtpdec.ErrMalformed},
		{"cryptex", withHeader(0x90, append([]byte{0xC0, 0xDE, 0, 1, 1, 2, 3, 4}, tag...)...), srtpdec.ErrUnsupported},
		{"SRTCP sender report", append([]byte{0x80, 200, 0, 6}, make([]byte, 40)...), srtpdec.ErrMalformed},
		{"SRTCP receiver report", append([]byte{0x81, 201, 0, 7}, make([]byte, 40)...), srtpdec.ErrMalformed},
		{"STUN", append([]byte{0x00, 0x01, 0, 0, 0x21, 0x12, 0xA4, 0x42}, make([]byte, 12)...), srtpdec.ErrMalformed},
	}
	d, err := srtpdec.New(suite, keys)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if _, err := d.Decrypt(nil, c.pkt); err != c.want {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// Random garbage of every length: refused, classified, no panic.
	r := rand.New(rand.NewPCG(5, 6))
	for n := range 300 {
		g := make([]byte, n)
		for i := range g {
			g[i] = byte(r.Uint32())
		}
		if _, err := d.Decrypt(nil, g); !isClassified(err) {
			t.Fatalf("garbage of %d bytes: %v", n, err)
		}
	}
}

// TestEmptyPayload: an SRTP packet with no payload (header and tag only)
// is valid and decrypts to the bare header.
func TestEmptyPayload(t *testing.T) {
	for _, suite := range suites.Names() {
		key := srtptest.Key(suite, 1)
		enc, _ := srtptest.Encryptor(suite, key)
		d, _ := srtpdec.New(suite, []srtpdec.Key{key})
		plain := rtpPacket(13, 1, 1, 1, 0)
		c, err := enc.Encrypt(nil, plain)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := d.Decrypt(nil, c); err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%s: %x, %v", suite, got, err)
		}
	}
}

// TestBuffers: the result reuses dst when it is large enough, and
// decryption in place (dst = pkt[:0]) works.
func TestBuffers(t *testing.T) {
	for _, suite := range suites.Names() {
		t.Run(suite, func(t *testing.T) {
			key := srtptest.Key(suite, 1)
			packets := stream(t, suite, []srtpdec.Key{key}, map[uint32]uint16{1: 1}, 3, 1)
			d, _ := srtpdec.New(suite, []srtpdec.Key{key})
			buf := make([]byte, 0, 2048)
			got, err := d.Decrypt(buf, packets[0].cipher)
			if err != nil || !bytes.Equal(got, packets[0].plain) {
				t.Fatalf("into buf: %v", err)
			}
			if &got[:1][0] != &buf[:1][0] {
				t.Error("the result does not reuse dst")
			}
			small := make([]byte, 0, 10)
			if got, err := d.Decrypt(small, packets[1].cipher); err != nil || !bytes.Equal(got, packets[1].plain) {
				t.Fatalf("into a small dst: %v", err)
			}
			pkt := bytes.Clone(packets[2].cipher)
			got, err = d.Decrypt(pkt[:0], pkt)
			if err != nil || !bytes.Equal(got, packets[2].plain) {
				t.Fatalf("in place: %v", err)
			}
			if &got[0] != &pkt[0] {
				t.Error("in place: the result is not in pkt")
			}
		})
	}
}

// TestSessionParams: UNENCRYPTED_SRTP and UNAUTHENTICATED_SRTP streams made
// by pion with the matching options decrypt; KDR is refused; parameters
// that do not change SRTP packets are accepted.
func TestSessionParams(t *testing.T) {
	for _, suite := range suites.Names() {
		s, _ := suites.Lookup(suite)
		keys := keysFor(suite, 1, 0)
		for _, c := range []struct {
			params []string
			opts   []srtp.ContextOption
		}{
			{[]string{"UNENCRYPTED_SRTP"}, []srtp.ContextOption{srtp.SRTPNoEncryption()}},
			{[]string{"UNAUTHENTICATED_SRTP"}, []srtp.ContextOption{srtp.SRTPAuthenticationTagLength(0)}},
			{[]string{"UNENCRYPTED_SRTP", "UNAUTHENTICATED_SRTP"},
				[]srtp.ContextOption{srtp.SRTPNoEncryption(), srtp.SRTPAuthenticationTagLength(0)}},
			{[]string{"WSH=128", "UNENCRYPTED_SRTCP", "UNAUTHENTICATED_SRTCP", "FEC_ORDER=FEC_SRTP", "KDR=0", "X-VENDOR"}, nil},
		} {
			t.Run(fmt.Sprint(suite, c.params), func(t *testing.T) {
				unauth := slices.Contains(c.params, "UNAUTHENTICATED_SRTP")
				d, err := srtpdec.New(suite, keys, c.params...)
				if s.AEAD && unauth {
					if !errors.Is(err, srtpdec.ErrUnsupported) {
						t.Fatalf("UNAUTHENTICATED_SRTP with AEAD: %v, want ErrUnsupported", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				sender := pionSender(t, suite, keys, c.opts...)
				for seq := uint16(65500); seq != 100; seq++ {
					plain := rtpPacket(0, 77, seq, 0, 160)
					cph, err := sender.EncryptRTP(nil, plain, nil)
					if err != nil {
						t.Fatal(err)
					}
					if got, err := d.Decrypt(nil, cph); err != nil || !bytes.Equal(got, plain) {
						t.Fatalf("seq %d: %v", seq, err)
					}
				}
			})
		}
		for _, kdr := range []string{"KDR=1", "KDR=24", "kdr=10"} {
			if _, err := srtpdec.New(suite, keys, kdr); !errors.Is(err, srtpdec.ErrUnsupported) {
				t.Errorf("%s %s: %v, want ErrUnsupported", suite, kdr, err)
			}
		}
	}
	// Without UNENCRYPTED_SRTP the clear payload authenticates but
	// "decrypts" to noise: that is why the parameter must be passed.
	const suite = "AES_CM_128_HMAC_SHA1_80"
	keys := keysFor(suite, 1, 0)
	plain := rtpPacket(0, 1, 1, 0, 160)
	cph, _ := pionSender(t, suite, keys, srtp.SRTPNoEncryption()).EncryptRTP(nil, plain, nil)
	if !bytes.Equal(cph[:len(plain)], plain) {
		t.Fatal("UNENCRYPTED_SRTP packet does not carry its payload in clear")
	}
	d, _ := srtpdec.New(suite, keys)
	if got, err := d.Decrypt(nil, cph); err != nil || bytes.Equal(got, plain) {
		t.Fatalf("without the parameter: %v, equal %v", err, bytes.Equal(got, plain))
	}
}
