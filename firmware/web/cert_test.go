package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"os"
	"regexp"
	"testing"
	"time"

	"spanrec/firmware/config/setting"
	"spanrec/firmware/datadir"
)

// TestSelfSignedCertificate: made once (ECDSA P-256, key 0600 in a 0700
// folder), then loaded again with the same fingerprint.
func TestSelfSignedCertificate(t *testing.T) {
	dir := t.TempDir()
	c1, created, err := Certificate(Config{}, dir, time.Now())
	if err != nil || !created {
		t.Fatalf("first: %v %v", created, err)
	}
	leaf, err := x509.ParseCertificate(c1.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Fatalf("key %T", leaf.PublicKey)
	}
	for path, mode := range map[string]os.FileMode{datadir.Layout(dir).WebDir(): 0o700 | os.ModeDir, datadir.Layout(dir).WebKey(): 0o600} {
		if st, err := os.Stat(path); err != nil || st.Mode() != mode {
			t.Errorf("%s: %v %v, want %v", path, st.Mode(), err, mode)
		}
	}
	c2, created, err := Certificate(Config{}, dir, time.Now())
	if err != nil || created {
		t.Fatalf("second: %v %v", created, err)
	}
	fp := Fingerprint(c1)
	if fp != Fingerprint(c2) || !regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`).MatchString(fp) {
		t.Fatalf("fingerprints %s %s", fp, Fingerprint(c2))
	}
	// The admin's own files, given by path.
	own := Config{Cert: datadir.Layout(dir).WebCert(), Key: datadir.Layout(dir).WebKey()}
	if c3, created, err := Certificate(own, t.TempDir(), time.Now()); err != nil || created || Fingerprint(c3) != fp {
		t.Fatalf("own certificate: %v %v", created, err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{}, {Listen: ":443"}, {Listen: "127.0.0.1:8443"}, {Listen: "[::]:443", Cert: "a", Key: "b"}} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	for _, c := range []Config{{Listen: "443"}, {Listen: ":0"}, {Listen: ":99999"}, {Listen: "host.example:443"}, {Cert: "a"}} {
		var pr *setting.Problem
		if err := c.Validate(); !errors.Is(err, ErrInvalid) || !errors.As(err, &pr) || pr.Key == "" {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
