package offload

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"spanrec/firmware/config/setting"
	"spanrec/firmware/offload/offloadtest"
)

// sftpConfig is the target of e's share, logging in with creds.
func sftpConfig(e *offloadtest.SSHD, creds string) Config {
	return Config{Kind: KindSFTP, Host: e.Host, Port: e.Port, User: e.User, Path: e.Share,
		CredentialsFile: creds, HostKeyFingerprint: e.HostKeyFingerprint(),
		Timeout: setting.Duration(20 * time.Second), Retry: Retry{Min: setting.Duration(time.Millisecond), Max: setting.Duration(time.Millisecond)}}
}

func TestSFTPOffload(t *testing.T) {
	e := offloadtest.StartSSHD(t)
	// The key, protected by a passphrase: the passphrase is the secret.
	const phrase = "c0rrect-h0rse-passphrase"
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(phrase))
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := ssh.NewPublicKey(priv.Public())
	e.Authorize(t, pub)
	keyFile := filepath.Join(e.Dir, "enc_key")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	creds := writeSecret(t, e.Dir, "creds", "key_file="+keyFile+"\nkey_passphrase="+phrase+"\n", 0o600)
	scenario(t, sftpConfig(e, creds), e.Share, e, []string{phrase})
}

func TestSFTPKnownHosts(t *testing.T) {
	e := offloadtest.StartSSHD(t)
	creds := writeSecret(t, e.Dir, "creds", string(e.ClientKey), 0o600)
	kh := filepath.Join(e.Dir, "known_hosts")
	line := knownHostsLine(fmt.Sprintf("[127.0.0.1]:%d", e.Port), e.HostKey)
	if err := os.WriteFile(kh, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := sftpConfig(e, creds)
	cfg.HostKeyFingerprint, cfg.KnownHostsFile = "", kh
	src := newTestSource(t)
	it := src.add(t, "20261125T090000Z-00000001", 1000)
	o, err := New(cfg, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkShare(t, e.Share, src, []Item{it})

	// Another key for the host in known_hosts: refused.
	other := offloadtest.GenKey(t, e.Dir, "other")
	otherPub, _ := ssh.NewPublicKey(other.Public())
	if err := os.WriteFile(kh, []byte(knownHostsLine(fmt.Sprintf("[127.0.0.1]:%d", e.Port), otherPub)), 0o644); err != nil {
		t.Fatal(err)
	}
	src.unmark()
	o, _ = New(cfg, src, nil)
	if _, err := o.RunOnce(context.Background()); !errors.Is(err, ErrHostKey) {
		t.Fatalf("changed host key: %v", err)
	}
	// A wrong pinned fingerprint: refused.
	cfg = sftpConfig(e, creds)
	cfg.HostKeyFingerprint = ssh.FingerprintSHA256(otherPub)
	o, _ = New(cfg, src, nil)
	if _, err := o.RunOnce(context.Background()); !errors.Is(err, ErrHostKey) {
		t.Fatalf("wrong fingerprint: %v", err)
	}
}

func knownHostsLine(host string, key ssh.PublicKey) string {
	return host + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))) + "\n"
}

func TestSFTPSecrets(t *testing.T) {
	e := offloadtest.StartSSHD(t)
	const password = "N0t-the-r00t-password-7391"
	src := newTestSource(t)
	src.add(t, "20261125T090000Z-00000001", 1000)
	log, buf := testLogger()

	// Mode 0644 credentials are refused before any connection.
	loose := writeSecret(t, e.Dir, "loose", "password="+password+"\n", 0o644)
	if _, err := New(sftpConfig(e, loose), src, log); !errors.Is(err, ErrCredentialsMode) {
		t.Fatalf("0644 credentials: %v", err)
	}
	// A wrong password: the login fails, and neither the error nor the
	// log shows it.
	creds := writeSecret(t, e.Dir, "creds", "password="+password+"\n", 0o600)
	o, err := New(sftpConfig(e, creds), src, log)
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.RunOnce(context.Background())
	if !errors.Is(err, ErrRemote) || !strings.Contains(err.Error(), "login") {
		t.Fatalf("wrong password: %v", err)
	}
	checkNoSecret(t, err, buf.String(), password)
	checkNoSecret(t, errors.New(o.Status().LastError), "", password)
	// A wrong passphrase for a key.
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, _ := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("right-passphrase"))
	keyFile := writeSecret(t, e.Dir, "enc", string(pem.EncodeToMemory(block)), 0o600)
	creds2 := writeSecret(t, e.Dir, "creds2", "key_file="+keyFile+"\nkey_passphrase="+password+"\n", 0o600)
	o, _ = New(sftpConfig(e, creds2), src, log)
	_, err = o.RunOnce(context.Background())
	if !errors.Is(err, ErrCredentials) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	checkNoSecret(t, err, buf.String(), password)
	if bytes.Contains([]byte(buf.String()), []byte("right-passphrase")) {
		t.Fatal("passphrase logged")
	}
}
