package offloadtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// VersityGWEnv names an environment variable that may hold the path of
// the versitygw binary StartS3 runs; otherwise it is looked up in PATH
// and in $GOPATH/bin (where `go install github.com/versity/versitygw/cmd/versitygw`
// puts it; .ci/run does).
const VersityGWEnv = "SPANREC_VERSITYGW"

// S3 is a private S3 server (versitygw with its POSIX backend) on
// 127.0.0.1, with versioning (so buckets may have Object Lock).
type S3 struct {
	Proc
	// Endpoint is the server's URL, "http://127.0.0.1:PORT".
	Endpoint string
	// AccessKey and SecretKey are the root account's credentials.
	AccessKey, SecretKey string
	// CredentialsFile holds them as offload reads them (access_key=,
	// secret_key= lines, mode 0600).
	CredentialsFile string
	// Root is the directory the buckets live in (one folder each).
	Root string
	// Dir is the server's private directory.
	Dir string
	// CAFile is, for StartS3TLS, the PEM certificate of the CA that
	// signed the server's certificate ("" over plain HTTP).
	CAFile string
}

// versityGW finds the versitygw binary.
func versityGW() (string, error) {
	if p := os.Getenv(VersityGWEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", VersityGWEnv, p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		home, _ := os.UserHomeDir()
		gopath = filepath.Join(home, "go")
	}
	p := filepath.Join(gopath, "bin", "versitygw")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("versitygw not in PATH nor %s (go install github.com/versity/versitygw/cmd/versitygw@latest, or set %s)", p, VersityGWEnv)
	}
	return p, nil
}

// StartS3 starts versitygw on a free port of 127.0.0.1, stopped when t
// ends; it skips t when the binary is missing. Stop and Start kill and
// bring back the same server (same port, same buckets).
func StartS3(t testing.TB) *S3 { t.Helper(); return startS3(t, false) }

// StartS3TLS is StartS3 over HTTPS, with a certificate for 127.0.0.1
// from a CA of its own (S3.CAFile).
func StartS3TLS(t testing.TB) *S3 { t.Helper(); return startS3(t, true) }

func startS3(t testing.TB, useTLS bool) *S3 {
	t.Helper()
	bin, err := versityGW()
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "buckets")
	versions := filepath.Join(dir, "versions")
	for _, d := range []string{root, versions} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := FreePort(t)
	s := &S3{
		Endpoint:  fmt.Sprintf("http://%s:%d", Host, port),
		AccessKey: "spanrec-test",
		SecretKey: "s3cret-key-for-tests-only",
		Root:      root,
		Dir:       dir,
	}
	s.CredentialsFile = writeSecret(t, filepath.Join(dir, "s3.cred"),
		"access_key="+s.AccessKey+"\nsecret_key="+s.SecretKey+"\n")
	args := []string{bin, "--access", s.AccessKey, "--secret", s.SecretKey, "--port", fmt.Sprintf("%s:%d", Host, port)}
	if useTLS {
		var cert, key string
		s.CAFile, cert, key = testCert(t, dir)
		args = append(args, "--cert", cert, "--key", key)
		s.Endpoint = fmt.Sprintf("https://%s:%d", Host, port)
	}
	s.Proc = Proc{
		Name: "versitygw",
		Args: append(args, "posix", "--versioning-dir", versions, root),
		Port: port,
	}
	s.Start(t)
	t.Cleanup(s.Stop)
	return s
}

// testCert writes a CA certificate and a server certificate and key for
// 127.0.0.1 signed by it; it returns their paths.
func testCert(t testing.TB, dir string) (ca, cert, key string) {
	t.Helper()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "spanrec test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	must(err)
	caCert, err := x509.ParseCertificate(caDER)
	must(err)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: Host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP(Host)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	must(err)
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	must(err)
	ca, cert, key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	must(os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644))
	must(os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}), 0o644))
	must(os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return ca, cert, key
}
