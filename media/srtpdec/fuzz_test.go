package srtpdec_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"spanrec/media/srtpdec"
	"spanrec/media/srtpdec/internal/suites"
	"spanrec/media/srtpdec/srtptest"
)

// fuzzKeys are the keys of FuzzDecrypt's Decryptors: one per suite without
// MKI, and two keys with 2-byte MKIs for an AES-CM and an AES-GCM suite.
// testdata/fuzz/FuzzDecrypt holds packets encrypted under them.
func fuzzKeys() map[string][]srtpdec.Key {
	m := map[string][]srtpdec.Key{}
	for _, name := range suites.Names() {
		m[name] = []srtpdec.Key{srtptest.Key(name, 0xF0)}
	}
	for _, name := range []string{"AES_CM_128_HMAC_SHA1_80", "AEAD_AES_128_GCM"} {
		a, b := srtptest.Key(name, 0xF1), srtptest.Key(name, 0xF2)
		a.MKI, b.MKI = []byte{0, 1}, []byte{0, 2}
		m[name+"/MKI"] = []srtpdec.Key{a, b}
	}
	return m
}

// FuzzDecrypt feeds every input to Decryptors of every suite: no panic,
// only Decrypt's own errors, and a packet that is accepted decrypts to its
// own header followed by a payload of the right length, the same into a
// buffer and in place.
func FuzzDecrypt(f *testing.F) {
	type target struct {
		name    string
		d       *srtpdec.Decryptor
		trailer int
	}
	var targets []target
	for name, keys := range fuzzKeys() {
		suite, _ := strings.CutSuffix(name, "/MKI")
		s, _ := suites.Lookup(suite)
		d, err := srtpdec.New(suite, keys)
		if err != nil {
			f.Fatal(err)
		}
		targets = append(targets, target{name, d, s.TagLen + len(keys[0].MKI)})
	}
	f.Add(rtpPacket(0, 1, 1, 1, 160))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		for _, tg := range targets {
			out, err := tg.d.Decrypt(nil, pkt)
			if err != nil && !isClassified(err) {
				t.Fatalf("%s: unclassified error %v", tg.name, err)
			}
			if err == nil {
				if len(out) != len(pkt)-tg.trailer {
					t.Fatalf("%s: %d bytes from %d", tg.name, len(out), len(pkt))
				}
				if h := refHeaderLen(pkt); !bytes.Equal(out[:h], pkt[:h]) {
					t.Fatalf("%s: header changed", tg.name)
				}
			}
			// Again in place: the same outcome (an accepted packet is a
			// duplicate now, which decrypts the same).
			cp := bytes.Clone(pkt)
			out2, err2 := tg.d.Decrypt(cp[:0], cp)
			if err2 != err || !bytes.Equal(out2, out) {
				t.Fatalf("%s: in place %v, into a buffer %v", tg.name, err2, err)
			}
		}
	})
}

// TestFuzzCorpus checks the committed seed corpus against fuzzKeys: each
// seed named after a key ("..._key0_pcmu") is a genuine packet that one of
// FuzzDecrypt's Decryptors accepts, and no other seed is accepted. A change
// of srtptest.Key would otherwise leave the fuzzer starting from noise.
func TestFuzzCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/fuzz/FuzzDecrypt/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed corpus: %v", err)
	}
	var ds []*srtpdec.Decryptor
	for name, keys := range fuzzKeys() {
		suite, _ := strings.CutSuffix(name, "/MKI")
		d, err := srtpdec.New(suite, keys)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		lit, ok := strings.CutPrefix(lines[len(lines)-1], "[]byte(")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" || !ok {
			t.Fatalf("%s: not a corpus file", file)
		}
		pkt, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		accepted := 0
		for _, d := range ds {
			if _, err := d.Decrypt(nil, []byte(pkt)); err == nil {
				accepted++
			}
		}
		if want := strings.Contains(filepath.Base(file), "_key"); (accepted == 1) != want || accepted > 1 {
			t.Errorf("%s: accepted by %d Decryptors", filepath.Base(file), accepted)
		}
	}
}
