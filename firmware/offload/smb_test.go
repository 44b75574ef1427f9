package offload

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	smbdPath      = "/usr/sbin/smbd"
	smbpasswdPath = "/usr/bin/smbpasswd"
	// smbTestPassword is the Samba password of root in the test's private
	// passdb (never a system password).
	smbTestPassword = "Sp4nrec-SMB-test-pw-5521"
)

// smbdEnv is a private Samba server on 127.0.0.1 with one share.
type smbdEnv struct {
	proc
	dir   string
	share string
}

func startSMBD(t *testing.T) *smbdEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("smbd needs root; run the tests as root")
	}
	for _, p := range []string{smbdPath, smbpasswdPath} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s not installed (apt-get install samba): %v", p, err)
		}
	}
	dir := t.TempDir()
	share := filepath.Join(dir, "share")
	for _, d := range []string{"share", "private", "lock", "state", "cache", "pid", "ncalrpc", "log"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	conf := filepath.Join(dir, "smb.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`[global]
	server role = standalone server
	workgroup = WORKGROUP
	netbios name = SPANRECTEST
	interfaces = 127.0.0.1
	bind interfaces only = yes
	smb ports = %[2]d
	disable netbios = yes
	server min protocol = SMB2_10
	private dir = %[1]s/private
	lock directory = %[1]s/lock
	state directory = %[1]s/state
	cache directory = %[1]s/cache
	pid directory = %[1]s/pid
	ncalrpc dir = %[1]s/ncalrpc
	log file = %[1]s/log/log.%%m
	log level = 1
	passdb backend = tdbsam:%[1]s/private/passdb.tdb
	load printers = no
	printing = bsd
	printcap name = /dev/null
	disable spoolss = yes
	map to guest = never
	usershare path =

[calls]
	path = %[1]s/share
	read only = no
	valid users = root
	create mask = 0644
	directory mask = 0755
`, dir, port)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(smbpasswdPath, "-c", conf, "-s", "-a", "root")
	cmd.Stdin = strings.NewReader(smbTestPassword + "\n" + smbTestPassword + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("smbpasswd: %v\n%s", err, out)
	}
	e := &smbdEnv{
		proc:  proc{name: "smbd", port: port, args: []string{smbdPath, "--foreground", "--no-process-group", "--debug-stdout", "-s", conf}},
		dir:   dir,
		share: share,
	}
	e.start(t)
	t.Cleanup(e.stop)
	return e
}

func (e *smbdEnv) config(creds string) Config {
	return Config{Kind: KindSMB, Host: "127.0.0.1", Port: e.port, User: "root", Share: "calls",
		CredentialsFile: creds, Timeout: 20 * time.Second, Retry: Retry{Min: time.Millisecond, Max: time.Millisecond}}
}

func TestSMBOffload(t *testing.T) {
	e := startSMBD(t)
	creds := writeSecret(t, e.dir, "creds", "password="+smbTestPassword+"\n", 0o600)
	scenario(t, e.config(creds), e.share, &e.proc, []string{smbTestPassword})
}

func TestSMBSubdirectory(t *testing.T) {
	e := startSMBD(t)
	creds := writeSecret(t, e.dir, "creds", smbTestPassword+"\n", 0o600) // bare password form
	cfg := e.config(creds)
	cfg.Path = "box1/spool"
	src := newTestSource(t)
	it := src.add(t, "20261125T090000Z-00000001", 70000)
	o, err := New(cfg, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The base directory inside the share is created on demand.
	if _, err := o.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkShare(t, filepath.Join(e.share, "box1", "spool"), src, []Item{it})
}

func TestSMBSecrets(t *testing.T) {
	e := startSMBD(t)
	src := newTestSource(t)
	src.add(t, "20261125T090000Z-00000001", 1000)
	log, buf := testLogger()
	loose := writeSecret(t, e.dir, "loose", "password="+smbTestPassword+"\n", 0o644)
	if _, err := New(e.config(loose), src, log); !errors.Is(err, ErrCredentialsMode) {
		t.Fatalf("0644 credentials: %v", err)
	}
	const wrong = "Wr0ng-SMB-password-8812"
	creds := writeSecret(t, e.dir, "creds", "password="+wrong+"\n", 0o600)
	o, err := New(e.config(creds), src, log)
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.RunOnce(context.Background())
	if !errors.Is(err, ErrRemote) || !strings.Contains(err.Error(), "login") {
		t.Fatalf("wrong password: %v", err)
	}
	t.Logf("wrong password: %v", err)
	checkNoSecret(t, err, buf.String(), wrong, smbTestPassword)
	checkNoSecret(t, errors.New(o.Status().LastError), "", wrong)
}
