package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"spanrec/firmware/datadir"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	priv, created, err := LoadOrCreate(dir)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreate: created %v err %v", created, err)
	}
	if m := mode(t, filepath.Join(dir, "keys")); m != 0o700 {
		t.Errorf("keys dir mode %04o, want 0700", m)
	}
	if m := mode(t, datadir.Layout(dir).PrivateKey()); m != 0o600 {
		t.Errorf("private key mode %04o, want 0600", m)
	}
	if m := mode(t, datadir.Layout(dir).PublicKey()); m != 0o644 {
		t.Errorf("public key mode %04o, want 0644", m)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "keys"))
	if len(entries) != 2 {
		t.Errorf("keys dir holds %d entries (temp files left?)", len(entries))
	}
	// PEM content as documented.
	b, _ := os.ReadFile(datadir.Layout(dir).PrivateKey())
	if blk, _ := pem.Decode(b); blk == nil || blk.Type != "PRIVATE KEY" {
		t.Errorf("private key file is not a PRIVATE KEY PEM:\n%s", b)
	}
	b, _ = os.ReadFile(datadir.Layout(dir).PublicKey())
	if blk, _ := pem.Decode(b); blk == nil || blk.Type != "PUBLIC KEY" {
		t.Errorf("public key file is not a PUBLIC KEY PEM:\n%s", b)
	}

	again, created, err := LoadOrCreate(dir)
	if err != nil || created || !priv.Equal(again) {
		t.Fatalf("reload: created %v err %v same %v", created, err, priv.Equal(again))
	}
	pub := priv.Public().(ed25519.PublicKey)
	for _, p := range []string{datadir.Layout(dir).PublicKey(), datadir.Layout(dir).PrivateKey()} {
		got, err := LoadPublic(p)
		if err != nil || !pub.Equal(got) {
			t.Errorf("LoadPublic(%s) = %x, %v", filepath.Base(p), got, err)
		}
	}
	// The key signs and verifies.
	sig := ed25519.Sign(priv, []byte("x"))
	if !ed25519.Verify(pub, []byte("x"), sig) {
		t.Error("loaded key pair does not verify")
	}
	// A lost public key file is recreated.
	os.Remove(datadir.Layout(dir).PublicKey())
	if _, _, err := LoadOrCreate(dir); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadPublic(datadir.Layout(dir).PublicKey()); err != nil || !pub.Equal(got) {
		t.Errorf("recreated public key: %v", err)
	}
}

func TestRefusesInsecurePrivateKey(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LoadOrCreate(dir); err != nil {
		t.Fatal(err)
	}
	for _, m := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		if err := os.Chmod(datadir.Layout(dir).PrivateKey(), m); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadOrCreate(dir)
		if !errors.Is(err, ErrInsecure) {
			t.Fatalf("mode %04o: err = %v, want ErrInsecure", m, err)
		}
		if !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("message does not tell how to fix it: %v", err)
		}
	}
	// The key was not replaced behind the user's back.
	os.Chmod(datadir.Layout(dir).PrivateKey(), 0o600)
	if _, created, err := LoadOrCreate(dir); err != nil || created {
		t.Errorf("after chmod 600: created %v err %v", created, err)
	}
}

func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	pub1, err := Generate(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(dir, false); !errors.Is(err, ErrExists) {
		t.Errorf("second Generate: %v, want ErrExists", err)
	}
	if got, _ := LoadPublic(datadir.Layout(dir).PublicKey()); !pub1.Equal(got) {
		t.Error("refused Generate changed the key")
	}
	pub2, err := Generate(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if pub1.Equal(pub2) {
		t.Error("forced Generate kept the old key")
	}
	priv, created, err := LoadOrCreate(dir)
	if err != nil || created || !pub2.Equal(priv.Public()) {
		t.Errorf("after forced Generate: created %v err %v", created, err)
	}
	if got, _ := LoadPublic(datadir.Layout(dir).PublicKey()); !pub2.Equal(got) {
		t.Error("public key file not updated")
	}
	if m := mode(t, datadir.Layout(dir).PrivateKey()); m != 0o600 {
		t.Errorf("private key mode %04o", m)
	}
}

func TestLoadPublicErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPriv, _ := x509.MarshalPKCS8PrivateKey(ec)
	for name, data := range map[string][]byte{
		"empty":      nil,
		"text":       []byte("hello"),
		"cert":       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}),
		"garbage":    pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2, 3}}),
		"ecdsa pub":  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER}),
		"ecdsa priv": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecPriv}),
	} {
		if _, err := LoadPublic(write(strings.ReplaceAll(name, " ", "_"), data)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := LoadPublic(filepath.Join(dir, "missing.pub")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	// A corrupt private key is reported, not silently replaced.
	if err := os.MkdirAll(filepath.Join(dir, "d", "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(datadir.Layout(filepath.Join(dir, "d")).PrivateKey(), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreate(filepath.Join(dir, "d")); !errors.Is(err, ErrInvalid) {
		t.Errorf("corrupt private key: %v", err)
	}
}

func TestFingerprint(t *testing.T) {
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)).Public().(ed25519.PublicKey)
	fp := Fingerprint(pub)
	if len(fp) != 16 || strings.Trim(fp, "0123456789abcdef") != "" {
		t.Errorf("Fingerprint = %q, want 16 hex digits", fp)
	}
	if Fingerprint(pub) != fp {
		t.Error("Fingerprint not deterministic")
	}
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32)).Public().(ed25519.PublicKey)
	if Fingerprint(other) == fp {
		t.Error("different keys, same fingerprint")
	}
}
