package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"spanrec/firmware/datadir"
)

// Errors returned by this package.
var (
	// ErrExists means Generate found a key and force was not set.
	ErrExists = errors.New("keys: a private key already exists (use force to replace it)")
	// ErrInsecure means the private key file is accessible by group or others.
	ErrInsecure = errors.New("keys: private key file is readable or writable by group/others; run chmod 600 on it")
	// ErrInvalid means a key file does not hold an Ed25519 key in the expected PEM form.
	ErrInvalid = errors.New("keys: not a valid Ed25519 key file")
)

// Fingerprint returns a short identifier of pub: the hex encoding of the
// first 8 bytes of its SHA-256.
func Fingerprint(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:8])
}

// LoadOrCreate loads the private key under dataDir, creating a new key pair
// if none exists (created reports that). It refuses a private key file with
// any group or other permission bits, and rewrites a missing public key file.
func LoadOrCreate(dataDir string) (ed25519.PrivateKey, bool, error) {
	priv, err := loadPrivate(datadir.Layout(dataDir).PrivateKey())
	if err == nil {
		if _, err := os.Stat(datadir.Layout(dataDir).PublicKey()); errors.Is(err, fs.ErrNotExist) {
			if err := writePublic(dataDir, priv.Public().(ed25519.PublicKey)); err != nil {
				return nil, false, err
			}
		}
		return priv, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	priv, err = create(dataDir, false)
	if errors.Is(err, fs.ErrExist) {
		// Another process created it between our load and create.
		priv, err = loadPrivate(datadir.Layout(dataDir).PrivateKey())
		return priv, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return priv, true, nil
}

// Generate creates a new key pair under dataDir and returns its public key.
// An existing private key is replaced only if force is set (ErrExists
// otherwise).
func Generate(dataDir string, force bool) (ed25519.PublicKey, error) {
	if !force {
		if _, err := os.Lstat(datadir.Layout(dataDir).PrivateKey()); err == nil {
			return nil, fmt.Errorf("%w: %s", ErrExists, datadir.Layout(dataDir).PrivateKey())
		}
	}
	priv, err := create(dataDir, force)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%w: %s", ErrExists, datadir.Layout(dataDir).PrivateKey())
	}
	if err != nil {
		return nil, err
	}
	return priv.Public().(ed25519.PublicKey), nil
}

// create generates and stores a key pair; without replace it fails with
// fs.ErrExist if a private key appeared meanwhile.
func create(dataDir string, replace bool) (ed25519.PrivateKey, error) {
	dir := datadir.Layout(dataDir).KeysDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("keys: generate: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("keys: encode private key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := writeKey(datadir.Layout(dataDir).PrivateKey(), data, 0o600, replace); err != nil {
		return nil, err
	}
	if err := writePublic(dataDir, pub); err != nil {
		return nil, err
	}
	return priv, nil
}

func writePublic(dataDir string, pub ed25519.PublicKey) error {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Errorf("keys: encode public key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	return writeKey(datadir.Layout(dataDir).PublicKey(), data, 0o644, true)
}

// writeKey installs a key file atomically; without replace it fails with
// fs.ErrExist when path exists.
func writeKey(path string, data []byte, mode os.FileMode, replace bool) error {
	write := datadir.CreateFile
	if replace {
		write = datadir.WriteFile
	}
	if err := write(path, data, mode); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	return nil
}

func loadPrivate(path string) (ed25519.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w (%s has mode %04o)", ErrInsecure, path, st.Mode().Perm())
	}
	data := make([]byte, min(st.Size(), 64<<10))
	n, err := f.ReadAt(data, 0)
	if n < len(data) {
		return nil, fmt.Errorf("keys: read %s: %w", path, err)
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: %s has no PRIVATE KEY PEM block", ErrInvalid, path)
	}
	return parsePrivate(path, b.Bytes)
}

func parsePrivate(path string, der []byte) (ed25519.PrivateKey, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s holds a %T, not Ed25519", ErrInvalid, path, k)
	}
	return priv, nil
}

// LoadPublic reads an Ed25519 public key from path, which may hold the
// public key PEM ("PUBLIC KEY", PKIX) or a private key PEM ("PRIVATE KEY",
// PKCS#8), from which the public key is derived.
func LoadPublic(path string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return ParsePublic(data, path)
}

// ParsePublic is LoadPublic of a file's content; name (a path, an object
// key) is what errors call it.
func ParsePublic(data []byte, path string) (ed25519.PublicKey, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, fmt.Errorf("%w: %s has no PEM block", ErrInvalid, path)
	}
	switch b.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, path, err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: %s holds a %T, not Ed25519", ErrInvalid, path, k)
		}
		return pub, nil
	case "PRIVATE KEY":
		priv, err := parsePrivate(path, b.Bytes)
		if err != nil {
			return nil, err
		}
		return priv.Public().(ed25519.PublicKey), nil
	}
	return nil, fmt.Errorf("%w: %s holds a %q PEM block", ErrInvalid, path, b.Type)
}
