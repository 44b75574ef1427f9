package offload

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

const sshdPath = "/usr/sbin/sshd"

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// proc is a server process in its own process group, so that stop kills
// the listener and every per-connection child at once (a server dying).
type proc struct {
	name string
	args []string
	port int
	cmd  *exec.Cmd
	out  *syncBuffer
	// exited is closed when the process has been reaped.
	exited chan struct{}
}

func (p *proc) start(t *testing.T) {
	t.Helper()
	p.out = &syncBuffer{}
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	p.cmd = cmd
	exited := make(chan struct{})
	p.exited = exited
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p.port), time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			t.Fatalf("%s exited at start:\n%s", p.name, p.out)
		default:
		}
		if time.Now().After(deadline) {
			p.stop()
			t.Fatalf("%s did not listen on %d:\n%s", p.name, p.port, p.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proc) stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	// Per-connection children may have left the process group (sshd calls
	// setsid), so kill every descendant, then the group.
	for _, pid := range descendants(p.cmd.Process.Pid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
	}
	p.cmd = nil
}

// descendants lists the processes below pid (from /proc), deepest last.
func descendants(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may contain spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(fields[1]); err == nil {
			children[ppid] = append(children[ppid], child)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// sshdEnv is a private OpenSSH server on 127.0.0.1 serving SFTP for root.
type sshdEnv struct {
	proc
	dir       string
	share     string
	hostKey   ssh.PublicKey
	clientKey []byte // OpenSSH PEM
}

func startSSHD(t *testing.T) *sshdEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("sshd needs root (privilege separation and root login); run the tests as root")
	}
	if _, err := os.Stat(sshdPath); err != nil {
		t.Skipf("%s not installed (apt-get install openssh-server): %v", sshdPath, err)
	}
	dir := t.TempDir()
	// sshd refuses to run without its privilege separation directory,
	// which the package creates at boot (tmpfiles) and containers lack.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	hostPriv := genKey(t, dir, "host_ed25519")
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	clientPriv := genKey(t, dir, "client_ed25519")
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
	port := freePort(t)
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
	e := &sshdEnv{
		proc:      proc{name: "sshd", port: port, args: []string{sshdPath, "-D", "-e", "-f", conf, "-p", fmt.Sprint(port)}},
		dir:       dir,
		share:     share,
		hostKey:   hostSigner.PublicKey(),
		clientKey: clientPEM,
	}
	e.start(t)
	t.Cleanup(e.stop)
	return e
}

// genKey writes an Ed25519 private key in OpenSSH format (mode 0600).
func genKey(t *testing.T, dir, name string) ed25519.PrivateKey {
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

func (e *sshdEnv) config(t *testing.T, creds string) Config {
	return Config{Kind: KindSFTP, Host: "127.0.0.1", Port: e.port, User: "root", Path: e.share,
		CredentialsFile: creds, HostKeyFingerprint: ssh.FingerprintSHA256(e.hostKey),
		Timeout: 20 * time.Second, Retry: Retry{Min: time.Millisecond, Max: time.Millisecond}}
}

func TestSFTPOffload(t *testing.T) {
	e := startSSHD(t)
	// The key, protected by a passphrase: the passphrase is the secret.
	const phrase = "c0rrect-h0rse-passphrase"
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(phrase))
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := ssh.NewPublicKey(priv.Public())
	f, err := os.OpenFile(filepath.Join(e.dir, "authorized_keys"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(ssh.MarshalAuthorizedKey(pub))
	f.Close()
	keyFile := filepath.Join(e.dir, "enc_key")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	creds := writeSecret(t, e.dir, "creds", "key_file="+keyFile+"\nkey_passphrase="+phrase+"\n", 0o600)
	scenario(t, e.config(t, creds), e.share, &e.proc, []string{phrase})
}

func TestSFTPKnownHosts(t *testing.T) {
	e := startSSHD(t)
	creds := writeSecret(t, e.dir, "creds", string(e.clientKey), 0o600)
	kh := filepath.Join(e.dir, "known_hosts")
	line := knownHostsLine(fmt.Sprintf("[127.0.0.1]:%d", e.port), e.hostKey)
	if err := os.WriteFile(kh, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := e.config(t, creds)
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
	checkShare(t, e.share, src, []Item{it})

	// Another key for the host in known_hosts: refused.
	other := genKey(t, e.dir, "other")
	otherPub, _ := ssh.NewPublicKey(other.Public())
	if err := os.WriteFile(kh, []byte(knownHostsLine(fmt.Sprintf("[127.0.0.1]:%d", e.port), otherPub)), 0o644); err != nil {
		t.Fatal(err)
	}
	src.unmark()
	o, _ = New(cfg, src, nil)
	if _, err := o.RunOnce(context.Background()); !errors.Is(err, ErrHostKey) {
		t.Fatalf("changed host key: %v", err)
	}
	// A wrong pinned fingerprint: refused.
	cfg = e.config(t, creds)
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
	e := startSSHD(t)
	const password = "N0t-the-r00t-password-7391"
	src := newTestSource(t)
	src.add(t, "20261125T090000Z-00000001", 1000)
	log, buf := testLogger()

	// Mode 0644 credentials are refused before any connection.
	loose := writeSecret(t, e.dir, "loose", "password="+password+"\n", 0o644)
	if _, err := New(e.config(t, loose), src, log); !errors.Is(err, ErrCredentialsMode) {
		t.Fatalf("0644 credentials: %v", err)
	}
	// A wrong password: the login fails, and neither the error nor the
	// log shows it.
	creds := writeSecret(t, e.dir, "creds", "password="+password+"\n", 0o600)
	o, err := New(e.config(t, creds), src, log)
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
	keyFile := writeSecret(t, e.dir, "enc", string(pem.EncodeToMemory(block)), 0o600)
	creds2 := writeSecret(t, e.dir, "creds2", "key_file="+keyFile+"\nkey_passphrase="+password+"\n", 0o600)
	o, _ = New(e.config(t, creds2), src, log)
	_, err = o.RunOnce(context.Background())
	if !errors.Is(err, ErrCredentials) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	checkNoSecret(t, err, buf.String(), password)
	if bytes.Contains([]byte(buf.String()), []byte("right-passphrase")) {
		t.Fatal("passphrase logged")
	}
}
