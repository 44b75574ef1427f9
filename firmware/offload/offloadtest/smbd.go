package offloadtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const (
	// SMBDPath and SMBPasswdPath are the Samba programs StartSMBD runs.
	SMBDPath      = "/usr/sbin/smbd"
	SMBPasswdPath = "/usr/bin/smbpasswd"
	// SMBPassword is the Samba password of root in the server's private
	// passdb (never a system password).
	SMBPassword = "Sp4nrec-SMB-test-pw-5521"
	// SMBShareName is the name of the server's one share.
	SMBShareName = "calls"
)

// SMBD is a private Samba server on 127.0.0.1 with one writable share,
// SMBShareName, for root with password SMBPassword.
type SMBD struct {
	Proc
	// Dir is the server's private directory (smb.conf, passdb, state,
	// logs); tests may put their own files there.
	Dir string
	// Share is the local directory the share serves.
	Share string
	// ShareName is the share's name (the target's Share).
	ShareName string
	// Host, User and Password are what to connect with.
	Host, User, Password string
}

// StartSMBD starts a private smbd on a free port of 127.0.0.1, stopped
// when t ends. It skips t when not run as root or when Samba is not
// installed.
func StartSMBD(t testing.TB) *SMBD {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("smbd needs root; run the tests as root")
	}
	for _, p := range []string{SMBDPath, SMBPasswdPath} {
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
	port := FreePort(t)
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

[%[3]s]
	path = %[1]s/share
	read only = no
	valid users = root
	create mask = 0644
	directory mask = 0755
`, dir, port, SMBShareName)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(SMBPasswdPath, "-c", conf, "-s", "-a", "root")
	cmd.Stdin = strings.NewReader(SMBPassword + "\n" + SMBPassword + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("smbpasswd: %v\n%s", err, out)
	}
	e := &SMBD{
		Proc:      Proc{Name: "smbd", Port: port, Args: []string{SMBDPath, "--foreground", "--no-process-group", "--debug-stdout", "-s", conf}},
		Dir:       dir,
		Share:     share,
		ShareName: SMBShareName,
		Host:      Host,
		User:      "root",
		Password:  SMBPassword,
	}
	e.Start(t)
	t.Cleanup(e.Stop)
	return e
}

// PasswordCredentials writes a credentials file (mode 0600) in Dir
// holding "password=<Password>" and returns its path.
func (e *SMBD) PasswordCredentials(t testing.TB) string {
	t.Helper()
	return writeSecret(t, filepath.Join(e.Dir, "password-credentials"), "password="+e.Password+"\n")
}
