package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"strings"
	"time"

	"spanrec/firmware/datadir"
)

// selfSignedYears is how long a self-signed certificate is valid.
const selfSignedYears = 10

// Certificate loads cfg's certificate and key, or (both empty) the
// self-signed one under dataDir/web, made on first use (ECDSA P-256, the
// key 0600 in a 0700 folder). created reports whether it was made now.
func Certificate(cfg Config, dataDir string, now time.Time) (cert tls.Certificate, created bool, err error) {
	certPath, keyPath := cfg.Cert, cfg.Key
	if certPath == "" {
		l := datadir.Layout(dataDir)
		dir := l.WebDir()
		certPath, keyPath = l.WebCert(), l.WebKey()
		if _, err := os.Stat(certPath); errors.Is(err, fs.ErrNotExist) {
			if err := selfSign(dir, certPath, keyPath, now); err != nil {
				return tls.Certificate{}, false, err
			}
			created = true
		}
	}
	cert, err = tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return tls.Certificate{}, false, fmt.Errorf("web: certificate: %w", err)
	}
	return cert, created, nil
}

// Fingerprint is the SHA-256 of the certificate's DER, as browsers show
// it ("AB:CD:...").
func Fingerprint(cert tls.Certificate) string {
	if len(cert.Certificate) == 0 {
		return ""
	}
	sum := sha256.Sum256(cert.Certificate[0])
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// selfSign writes a new self-signed certificate and its key.
func selfSign(dir, certPath, keyPath string, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("web: certificate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return fmt.Errorf("web: certificate serial: %w", err)
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "spanrec"
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: host, Organization: []string{"spanrec appliance (self-signed)"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(selfSignedYears, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{host, "localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("web: certificate: %w", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("web: certificate key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("web: %w", err)
	}
	// The key first: a certificate without its key would never be replaced.
	if err := datadir.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return err
	}
	return datadir.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}
