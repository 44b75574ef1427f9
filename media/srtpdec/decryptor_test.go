package srtpdec_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	prtp "github.com/pion/rtp"

	"spanrec/media/srtpdec"
	"spanrec/media/srtpdec/internal/suites"
	"spanrec/media/srtpdec/srtptest"
)

func TestSupported(t *testing.T) {
	for _, c := range []struct {
		suite  string
		keyLen int
	}{
		{"AES_CM_128_HMAC_SHA1_80", 30},
		{"AES_CM_128_HMAC_SHA1_32", 30},
		{"aes_cm_128_hmac_sha1_80", 30},
		{"AES_256_CM_HMAC_SHA1_80", 46},
		{"AES_256_CM_HMAC_SHA1_32", 46},
		{"AES_CM_256_HMAC_SHA1_80", 46},
		{"AES_CM_256_HMAC_SHA1_32", 46},
		{"AEAD_AES_128_GCM", 28},
		{"AEAD_AES_256_GCM", 44},
		{"F8_128_HMAC_SHA1_80", 0},
		{"AES_192_CM_HMAC_SHA1_80", 0},
		{"NULL_HMAC_SHA1_80", 0},
		{"", 0},
	} {
		if got := srtpdec.Supported(c.suite); got != (c.keyLen > 0) {
			t.Errorf("Supported(%q) = %v", c.suite, got)
		}
		if got := srtpdec.KeyLen(c.suite); got != c.keyLen {
			t.Errorf("KeyLen(%q) = %d, want %d", c.suite, got, c.keyLen)
		}
	}
	for _, name := range suites.Names() {
		if !srtpdec.Supported(name) {
			t.Errorf("%s is in the table but not supported", name)
		}
	}
}

func TestNewErrors(t *testing.T) {
	const suite = "AES_CM_128_HMAC_SHA1_80"
	k := func(seed byte, mki ...byte) srtpdec.Key {
		key := srtptest.Key(suite, seed)
		if len(mki) > 0 {
			key.MKI = mki
		}
		return key
	}
	short := k(1)
	short.Material = short.Material[:29]
	gcm := srtptest.Key("AEAD_AES_128_GCM", 1)
	for _, c := range []struct {
		name  string
		suite string
		keys  []srtpdec.Key
		want  error
		text  string
	}{
		{"unknown suite", "F8_128_HMAC_SHA1_80", []srtpdec.Key{k(1)}, srtpdec.ErrSuite, `"F8_128_HMAC_SHA1_80"`},
		{"a key as the suite", srtptest.Inline(k(1)), []srtpdec.Key{k(1)}, srtpdec.ErrSuite, "name not shown"},
		{"no key", suite, nil, srtpdec.ErrKey, "no key"},
		{"short key", suite, []srtpdec.Key{short}, srtpdec.ErrKey, "29 bytes"},
		{"GCM length for CM", suite, []srtpdec.Key{gcm}, srtpdec.ErrKey, "28 bytes"},
		{"two keys without MKI", suite, []srtpdec.Key{k(1), k(2)}, srtpdec.ErrKey, "without MKIs"},
		{"mixed MKI", suite, []srtpdec.Key{k(1, 1), k(2)}, srtpdec.ErrKey, "some keys have an MKI"},
		{"mixed MKI, none first", suite, []srtpdec.Key{k(1), k(2, 1)}, srtpdec.ErrKey, "some keys have an MKI"},
		{"MKI lengths", suite, []srtpdec.Key{k(1, 1), k(2, 0, 2)}, srtpdec.ErrKey, "1 and 2 bytes"},
		{"same MKI twice", suite, []srtpdec.Key{k(1, 1), k(2, 1)}, srtpdec.ErrKey, "repeats an MKI"},
	} {
		d, err := srtpdec.New(c.suite, c.keys)
		if d != nil || !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: %v, want %v with %q", c.name, err, c.want, c.text)
		}
	}
}

// TestRedacted prints every key, Decryptor and error of this package in
// every way fmt, encoding/json and log/slog offer and finds the key
// material in none, in any of the encodings a key is usually written in.
func TestRedacted(t *testing.T) {
	const suite = "AES_CM_128_HMAC_SHA1_80"
	keys := keysFor(suite, 2, 1)
	d, err := srtpdec.New(suite, keys)
	if err != nil {
		t.Fatal(err)
	}
	var shown []any
	shown = append(shown, d, *d, keys, keys[0], keys[0].Material, &keys[0], []srtpdec.Key{keys[1]})
	// Errors of New, made with this very key material.
	for _, bad := range [][]srtpdec.Key{
		{{Material: keys[0].Material[:20]}},
		{keys[0], {Material: keys[1].Material}},
		{keys[0], keys[0]},
	} {
		_, err := srtpdec.New(suite, bad)
		shown = append(shown, err)
	}
	_, err = srtpdec.New(srtptest.Inline(keys[0]), keys)
	shown = append(shown, err)
	_, err = srtpdec.New(suite, keys, "KDR="+base64.StdEncoding.EncodeToString(keys[0].Material))
	shown = append(shown, err)
	// Errors of Decrypt.
	for _, p := range [][]byte{nil, keys[0].Material, append([]byte{0x80, 0, 0, 0}, keys[0].Material...)} {
		_, err := d.Decrypt(nil, p)
		shown = append(shown, err)
	}

	var out bytes.Buffer
	for _, v := range shown {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "% x", "%d", "%T"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
		fmt.Fprintln(&out, v)
		if j, err := json.Marshal(v); err == nil {
			out.Write(j)
		}
	}
	slog.New(slog.NewTextHandler(&out, nil)).Info("keys", "key", keys[0], "material", keys[0].Material, "d", d)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("keys", "key", keys[0], "material", keys[0].Material, "d", d)
	text := out.String()
	if !strings.Contains(text, "REDACTED") {
		t.Fatal("nothing was redacted: the test prints nothing")
	}
	for i, k := range keys {
		m := []byte(k.Material)
		for _, enc := range []string{
			hex.EncodeToString(m), strings.ToUpper(hex.EncodeToString(m)), fmt.Sprintf("% x", m),
			base64.StdEncoding.EncodeToString(m), base64.RawStdEncoding.EncodeToString(m),
			base64.URLEncoding.EncodeToString(m), base64.RawURLEncoding.EncodeToString(m),
			strings.Trim(fmt.Sprint(m), "[]"), string(m),
			// The master key and salt apart, as pion keeps them.
			hex.EncodeToString(m[:16]), base64.StdEncoding.EncodeToString(m[:15]), hex.EncodeToString(m[16:]),
		} {
			if strings.Contains(text, enc) {
				t.Errorf("key %d appears (as %q) in:\n%s", i, enc, text)
			}
		}
	}
	if !strings.Contains(fmt.Sprint(d), "AES_CM_128_HMAC_SHA1_80, 2 keys, 1-byte MKI") {
		t.Errorf("Decryptor prints as %v", d)
	}
}

// New keys for a stream already past a sequence wrap: the rollover counter
// carries over, so the first packets under the new keys authenticate.
func TestContinueFrom(t *testing.T) {
	const suite = "AES_CM_128_HMAC_SHA1_80"
	k1, k2 := srtptest.Key(suite, 1), srtptest.Key(suite, 2)
	old, err := srtpdec.New(suite, []srtpdec.Key{k1})
	if err != nil {
		t.Fatal(err)
	}
	e1, _ := srtptest.Encryptor(suite, k1)
	e2, _ := srtptest.Encryptor(suite, k2)
	seq := uint16(65000)
	packet := func(e *srtptest.Enc) []byte {
		p := prtp.Packet{Header: prtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 0x1234}, Payload: make([]byte, 160)}
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.Encrypt(nil, b)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for range 1000 { // across the wrap: ROC 1 (the sender's new keys go on from there too)
		if _, err := old.Decrypt(nil, packet(e1)); err != nil {
			t.Fatal(err)
		}
		packet(e2)
		seq++
	}
	fresh, _ := srtpdec.New(suite, []srtpdec.Key{k2})
	carried, _ := srtpdec.New(suite, []srtpdec.Key{k2})
	carried.ContinueFrom(old, 0x1234)
	p := packet(e2)
	if _, err := fresh.Decrypt(nil, p); err == nil {
		t.Fatal("a counter started again decrypted a packet past the wrap")
	}
	if _, err := carried.Decrypt(nil, p); err != nil {
		t.Fatalf("carried counter: %v", err)
	}
}
