package offloadtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
)

// SSHDPath is the OpenSSH server StartSSHD runs.
const SSHDPath = "/usr/sbin/sshd"

// SSHD is a private OpenSSH server on 127.0.0.1 serving SFTP (internal-sftp)
// for root, who logs in with ClientKey (or any key given to Authorize).
type SSHD struct {
	Proc
	// Dir is the server's private directory (configuration, host and
	// client keys, authorized_keys); tests may put their own files there.
	Dir string
	// Share is the absolute directory offloads go to: the target's Path.
	Share string
	// Host and User are the address and login name to connect with.
	Host, User string
	// HostKey is the server's host key.
	HostKey ssh.PublicKey
	// ClientKey is an authorized private key, unencrypted, OpenSSH PEM.
	ClientKey []byte
}

// StartSSHD starts a private sshd on a free port of 127.0.0.1, stopped
// when t ends. It skips t when not run as root or when sshd is not
// installed.
func StartSSHD(t testing.TB) *SSHD {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("sshd needs root (privilege separation and root login); run the tests as root")
	}
	if _, err := os.Stat(SSHDPath); err != nil {
		t.Skipf("%s not installed (apt-get install openssh-server): %v", SSHDPath, err)
	}
	dir := t.TempDir()
	// sshd refuses to run without its privilege separation directory,
	// which the package creates at boot (tmpfiles) and containers lack.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	hostPriv := GenKey(t, dir, "host_ed25519")
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	clientPriv := GenKey(t, dir, "client_ed25519")
	clientPub, err := ssh.NewPublicKey(clientPriv.Public())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(clientPub), 0o600); err != nil {
		t.Fatal(err)
	}
	clientPEM, err := os.ReadFile(filepath.Join(dir, "client_ed25519"))
	if err != nil {
		t.Fatal(err)
	}
	share := filepath.Join(dir, "share")
	if err := os.Mkdir(share, 0o755); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	conf := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`ListenAddress 127.0.0.1
HostKey %[1]s/host_ed25519
PidFile %[1]s/sshd.pid
AuthorizedKeysFile %[1]s/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
MaxAuthTries 10
Subsystem sftp internal-sftp
LogLevel ERROR
`, dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	e := &SSHD{
		Proc:      Proc{Name: "sshd", Port: port, Args: []string{SSHDPath, "-D", "-e", "-f", conf, "-p", fmt.Sprint(port)}},
		Dir:       dir,
		Share:     share,
		Host:      Host,
		User:      "root",
		HostKey:   hostSigner.PublicKey(),
		ClientKey: clientPEM,
	}
	e.Start(t)
	t.Cleanup(e.Stop)
	return e
}

// HostKeyFingerprint is the host key's "SHA256:..." fingerprint (the
// target's host_key_fingerprint).
func (e *SSHD) HostKeyFingerprint() string { return ssh.FingerprintSHA256(e.HostKey) }

// Authorize lets root log in with pub too.
func (e *SSHD) Authorize(t testing.TB, pub ssh.PublicKey) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(e.Dir, "authorized_keys"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(ssh.MarshalAuthorizedKey(pub)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// KeyCredentials writes ClientKey as a credentials file (mode 0600) in Dir
// and returns its path.
func (e *SSHD) KeyCredentials(t testing.TB) string {
	t.Helper()
	return writeSecret(t, filepath.Join(e.Dir, "client-credentials"), string(e.ClientKey))
}

// GenKey writes a new Ed25519 private key in OpenSSH format (mode 0600) to
// dir/name and returns it.
func GenKey(t testing.TB, dir, name string) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return priv
}
