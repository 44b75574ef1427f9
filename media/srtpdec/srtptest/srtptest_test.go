package srtptest_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"spanrec/media/srtpdec"
	"spanrec/media/srtpdec/internal/suites"
	"spanrec/media/srtpdec/srtptest"
)

func TestKey(t *testing.T) {
	for _, name := range suites.Names() {
		a, b, a2 := srtptest.Key(name, 1), srtptest.Key(name, 2), srtptest.Key(name, 1)
		if len(a.Material) != srtpdec.KeyLen(name) || a.MKI != nil {
			t.Errorf("%s: %d bytes, MKI %v", name, len(a.Material), a.MKI)
		}
		if !bytes.Equal(a.Material, a2.Material) || bytes.Equal(a.Material, b.Material) {
			t.Errorf("%s: keys are not deterministic per seed", name)
		}
	}
	if k := srtptest.Key("F8_128_HMAC_SHA1_80", 1); len(k.Material) != 0 {
		t.Errorf("unsupported suite: %d bytes", len(k.Material))
	}
}

func TestInline(t *testing.T) {
	k := srtptest.Key("AES_CM_128_HMAC_SHA1_80", 1)
	b64 := base64.StdEncoding.EncodeToString(k.Material)
	for _, c := range []struct {
		mki  []byte
		want string
	}{
		{nil, b64},
		{[]byte{1}, b64 + "|2^31|1:1"},
		{[]byte{0, 0, 0, 1}, b64 + "|2^31|1:4"},
		{[]byte{1, 0}, b64 + "|2^31|256:2"},
		{[]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, b64 + "|2^31|4722366482869645213695:9"},
	} {
		k.MKI = c.mki
		if got := srtptest.Inline(k); got != c.want {
			t.Errorf("MKI %x: %s, want %s", c.mki, got, c.want)
		}
	}
	// Padding as RFC 4568 keys carry it: 46 bytes of AES-256 material.
	if got := srtptest.Inline(srtptest.Key("AES_256_CM_HMAC_SHA1_80", 1)); len(got) != 64 || !strings.HasSuffix(got, "==") {
		t.Errorf("AES-256 inline %q", got)
	}
}

// TestEncryptor: what Enc makes, srtpdec decrypts, with and without MKI;
// bad arguments are refused.
func TestEncryptor(t *testing.T) {
	for _, name := range suites.Names() {
		for _, mki := range [][]byte{nil, {0, 3}} {
			k := srtptest.Key(name, 5)
			k.MKI = mki
			enc, err := srtptest.Encryptor(name, k)
			if err != nil {
				t.Fatal(err)
			}
			d, err := srtpdec.New(name, []srtpdec.Key{k})
			if err != nil {
				t.Fatal(err)
			}
			for seq := uint16(65530); seq != 6; seq++ {
				rtp := []byte{0x80, 0, byte(seq >> 8), byte(seq), 0, 0, 0, 0, 0, 0, 0, 9, 1, 2, 3, 4}
				c, err := enc.Encrypt(nil, rtp)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Equal(c[12:16], rtp[12:]) {
					t.Fatalf("%s: payload not encrypted", name)
				}
				if got, err := d.Decrypt(nil, c); err != nil || !bytes.Equal(got, rtp) {
					t.Fatalf("%s seq %d: %v", name, seq, err)
				}
			}
		}
	}
	if _, err := srtptest.Encryptor("F8_128_HMAC_SHA1_80", srtptest.Key("AES_CM_128_HMAC_SHA1_80", 1)); err == nil {
		t.Error("unsupported suite accepted")
	}
	if _, err := srtptest.Encryptor("AEAD_AES_128_GCM", srtptest.Key("AES_CM_128_HMAC_SHA1_80", 1)); err == nil {
		t.Error("wrong key length accepted")
	}
	enc, _ := srtptest.Encryptor("AES_CM_128_HMAC_SHA1_80", srtptest.Key("AES_CM_128_HMAC_SHA1_80", 1))
	if _, err := enc.Encrypt(nil, []byte{0x80, 0}); err == nil {
		t.Error("a 2-byte packet encrypted")
	}
}

// The inline value for an a=crypto line, here with a 4-byte MKI of 1.
func ExampleInline() {
	k := srtptest.Key("AES_CM_128_HMAC_SHA1_80", 1)
	k.MKI = []byte{0, 0, 0, 1}
	fmt.Println("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + srtptest.Inline(k))
	// Output:
	// a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:C1MzpXg932TiIxrKVeK3WvY89DkSeFS7D/5zhRvZ|2^31|1:4
}
