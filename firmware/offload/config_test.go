package offload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"spanrec/firmware/config/setting"
	"spanrec/firmware/offload/offloadtest"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	creds := writeSecret(t, dir, "creds", "password=Sup3r-Secret\n", 0o600)
	ok := []Config{
		{Kind: KindDir, Path: "/mnt/share"},
		{Kind: KindSFTP, Host: "nas.local", User: "rec", CredentialsFile: creds, KnownHostsFile: "/etc/ssh/known"},
		{Kind: KindSFTP, Host: "10.0.0.2", Port: 2222, User: "rec", CredentialsFile: creds, HostKeyFingerprint: "SHA256:abc", Path: "/srv/rec"},
		{Kind: KindSMB, Host: "fileserver", User: "rec", CredentialsFile: creds, Share: "calls", Path: "spanrec", Window: "22:00-06:00"},
	}
	for _, c := range ok {
		if err := c.Validate(); err != nil {
			t.Errorf("%v: %v", c, err)
		}
	}
	bad := []Config{
		{},
		{Kind: "ftp"},
		{Kind: KindDir},
		{Kind: KindDir, Path: "relative"},
		{Kind: KindSFTP, User: "rec", CredentialsFile: creds, InsecureHostKey: true},
		{Kind: KindSFTP, Host: "h", CredentialsFile: creds, InsecureHostKey: true},
		{Kind: KindSFTP, Host: "h", User: "rec", InsecureHostKey: true},
		{Kind: KindSFTP, Host: "h", User: "rec", CredentialsFile: creds},                                              // no host key check
		{Kind: KindSFTP, Host: "h", User: "rec", CredentialsFile: creds, InsecureHostKey: true, KnownHostsFile: "/k"}, // two
		{Kind: KindSFTP, Host: "h", User: "rec", CredentialsFile: creds, HostKeyFingerprint: "MD5:aa"},
		{Kind: KindSFTP, Host: "h", Port: 70000, User: "rec", CredentialsFile: creds, InsecureHostKey: true},
		{Kind: KindSFTP, Host: "h", User: "rec", CredentialsFile: creds, InsecureHostKey: true, Path: "../etc"},
		{Kind: KindSMB, Host: "h", User: "rec", CredentialsFile: creds},
		{Kind: KindSMB, Host: "h", User: "rec", CredentialsFile: creds, Share: `a\b`},
		{Kind: KindSMB, Host: "h", User: "rec", CredentialsFile: creds, Share: "s", InsecureHostKey: true},
		{Kind: KindDir, Path: "/mnt", Window: "25:00-01:00"},
		{Kind: KindDir, Path: "/mnt", Retry: Retry{Min: setting.Duration(time.Hour), Max: setting.Duration(time.Minute)}},
		{Kind: KindDir, Path: "/mnt", BandwidthBytesPerSec: -1},
		{Kind: KindSMB, Host: "h", User: "rec", CredentialsFile: filepath.Join(dir, "missing"), Share: "s"},
	}
	for _, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("%#v: accepted", c)
		} else if !errors.Is(err, ErrConfig) && !errors.Is(err, ErrWindow) && !errors.Is(err, ErrCredentials) {
			t.Errorf("%v: error %v wraps no package error", c, err)
		}
	}
}

func TestCredentialsModeRefused(t *testing.T) {
	dir := t.TempDir()
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		p := writeSecret(t, dir, fmt.Sprintf("creds%o", mode), "password=Sup3r-Secret\n", mode)
		cfg := Config{Kind: KindSMB, Host: "127.0.0.1", User: "u", Share: "s", CredentialsFile: p}
		if _, err := New(cfg, newTestSource(t), nil); !errors.Is(err, ErrCredentialsMode) {
			t.Errorf("mode %o: New: %v", mode, err)
		}
		if _, err := loadCredentials(p); !errors.Is(err, ErrCredentialsMode) {
			t.Errorf("mode %o: load: %v", mode, err)
		}
	}
	// A key file named by the credentials file must be private as well.
	key := writeSecret(t, dir, "key", "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n", 0o644)
	p := writeSecret(t, dir, "creds-key", "key_file="+key+"\n", 0o600)
	if _, err := loadCredentials(p); !errors.Is(err, ErrCredentialsMode) {
		t.Errorf("public key file: %v", err)
	}
	if _, err := loadCredentials(dir); !errors.Is(err, ErrCredentialsMode) {
		t.Errorf("directory: %v", err)
	}
}

func TestParseCredentials(t *testing.T) {
	cases := []struct {
		in              string
		pw, key, phrase string
		err             bool
	}{
		{in: "hunter2-long\n", pw: "hunter2-long"},
		{in: "pass=with=equals\n", pw: "pass=with=equals"},
		{in: "password=a b=c\r\n", pw: "a b=c"},
		{in: "# comment\npassword=x1y2z3\n\nkey_file=/etc/k\nkey_passphrase=pp pp\n", pw: "x1y2z3", key: "/etc/k", phrase: "pp pp"},
		{in: "key_file=/k\n", key: "/k"},
		{in: "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"},
		{in: "", err: true},
		{in: "one\ntwo\n", err: true},
		{in: "password=x\nbogus=1\n", err: true},
		{in: "password=x\nnot kv\n", err: true},
		{in: "key_passphrase=p\n", err: true},
		{in: "-----BEGIN CERTIFICATE-----\n", err: true},
	}
	for _, c := range cases {
		cr, keyFile, err := parseCredentials([]byte(c.in))
		if (err != nil) != c.err {
			t.Errorf("%q: err %v", c.in, err)
			continue
		}
		if err != nil {
			if strings.Contains(err.Error(), "x1y2z3") || (len(c.in) > 3 && strings.Contains(err.Error(), strings.TrimSpace(c.in))) {
				t.Errorf("%q: error quotes the content: %v", c.in, err)
			}
			continue
		}
		if cr.password != c.pw || keyFile != c.key || cr.passphrase != c.phrase {
			t.Errorf("%q: got pw=%q key=%q phrase=%q", c.in, cr.password, keyFile, cr.passphrase)
		}
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	const secret = "Sup3r-Secret-pw"
	cr := credentials{password: secret, passphrase: secret + "2", key: []byte("-----BEGIN KEY-----")}
	var buf offloadtest.SyncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("x", "creds", cr, "cfg", Config{Kind: KindSMB, Host: "h", User: "u", Share: "s", CredentialsFile: "/etc/c"})
	out := fmt.Sprintf("%v %+v %#v %s %q %x", cr, cr, cr, cr, cr, cr) + buf.String()
	if strings.Contains(out, secret) || strings.Contains(out, "BEGIN KEY") {
		t.Fatalf("secret printed: %s", out)
	}
	err := scrub(fmt.Errorf("%w: login with %s failed", ErrRemote, secret), cr.secrets())
	if strings.Contains(err.Error(), secret) || !errors.Is(err, ErrRemote) {
		t.Fatalf("scrub: %v", err)
	}
	if errors.Unwrap(err) != nil {
		t.Fatal("scrubbed error unwraps to the original text")
	}
}

func TestWindow(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 11, 25, h, m, 0, 0, time.Local) }
	w, err := ParseWindow("01:00-05:00")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		t    time.Time
		in   bool
		next time.Time
	}{
		{at(0, 59), false, at(1, 0)},
		{at(1, 0), true, at(1, 0)},
		{at(4, 59), true, at(4, 59)},
		{at(5, 0), false, at(1, 0).AddDate(0, 0, 1)},
		{at(23, 0), false, at(1, 0).AddDate(0, 0, 1)},
	} {
		if w.Contains(c.t) != c.in || !w.Next(c.t).Equal(c.next) {
			t.Errorf("%v: in=%v next=%v", c.t, w.Contains(c.t), w.Next(c.t))
		}
	}
	wrap, err := ParseWindow(" 22:30 - 06:00 ")
	if err != nil || wrap.String() != "22:30-06:00" {
		t.Fatal(wrap, err)
	}
	if !wrap.Contains(at(23, 0)) || !wrap.Contains(at(2, 0)) || wrap.Contains(at(12, 0)) || !wrap.Next(at(12, 0)).Equal(at(22, 30)) {
		t.Error("wrapping window")
	}
	if all, err := ParseWindow(""); err != nil || !all.Contains(at(12, 0)) || all.String() != "" {
		t.Error("empty window")
	}
	if w, err := ParseWindow("00:00-24:00"); err != nil || !w.Contains(at(23, 59)) {
		t.Error("whole day", err)
	}
	for _, s := range []string{"1-2", "01:00", "01:00-01:00", "24:01-01:00", "aa:bb-01:00", "01:60-02:00", "-01:00-02:00", "1:5-2:00"} {
		if _, err := ParseWindow(s); !errors.Is(err, ErrWindow) {
			t.Errorf("%q: %v", s, err)
		}
	}
}

func TestItemValidate(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	good := Item{ID: "20261125T144422Z-3fa2c1d0", File: "recordings/2026/11/25/20261125T144422Z-3fa2c1d0.wav", SHA256: sum, Size: 3}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	if good.ManifestName() != "recordings/2026/11/25/20261125T144422Z-3fa2c1d0.json" {
		t.Fatal(good.ManifestName())
	}
	for _, mod := range []func(*Item){
		func(i *Item) { i.ID = "" },
		func(i *Item) { i.ID = "../x" },
		func(i *Item) { i.ID = ".hidden" },
		func(i *Item) { i.File = "/etc/passwd" },
		func(i *Item) { i.File = "recordings/../../x.wav" },
		func(i *Item) { i.File = "recordings//x.wav" },
		func(i *Item) { i.File = `recordings\x.wav` },
		func(i *Item) { i.File = "recordings/.x.wav.partial" },
		func(i *Item) { i.SHA256 = strings.ToUpper(sum) },
		func(i *Item) { i.SHA256 = sum[:10] },
		func(i *Item) { i.Size = -1 },
	} {
		it := good
		mod(&it)
		if err := it.Validate(); !errors.Is(err, ErrItem) {
			t.Errorf("%+v: %v", it, err)
		}
	}
}

func TestRemoteURL(t *testing.T) {
	dir := t.TempDir()
	creds := writeSecret(t, dir, "c", "pw-123456\n", 0o600)
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Kind: KindDir, Path: "/mnt/nas"}, "file:///mnt/nas/recordings/a.wav"},
		{Config{Kind: KindSFTP, Host: "h", User: "u", CredentialsFile: creds, InsecureHostKey: true, Path: "/srv"}, "sftp://u@h:22/srv/recordings/a.wav"},
		{Config{Kind: KindSFTP, Host: "h", User: "u", CredentialsFile: creds, InsecureHostKey: true}, "sftp://u@h:22/~/recordings/a.wav"},
		{Config{Kind: KindSMB, Host: "h", User: "u", CredentialsFile: creds, Share: "calls", Path: "box1"}, "smb://u@h:445/calls/box1/recordings/a.wav"},
	} {
		o, err := New(c.cfg, newTestSource(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.RemoteURL("recordings/a.wav"); got != c.want {
			t.Errorf("%v: %s, want %s", c.cfg, got, c.want)
		}
	}
}

func TestLimiter(t *testing.T) {
	if newLimiter(0, time.Now) != nil {
		t.Fatal("0 must mean unlimited")
	}
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	l := newLimiter(8<<20, clock)
	if l.chunk() != 256<<10 {
		t.Fatalf("chunk %d", l.chunk())
	}
	if l := newLimiter(100, clock); l.chunk() != 1<<10 {
		t.Fatalf("small chunk %d", l.chunk())
	}
	ctx := context.Background()
	if err := l.wait(ctx, l.chunk()); err != nil { // the full bucket passes at once
		t.Fatal(err)
	}
	now = now.Add(time.Second / 32) // refills 256 KiB
	if err := l.wait(ctx, l.chunk()); err != nil || l.tokens != 0 {
		t.Fatalf("refill: %v tokens %v", err, l.tokens)
	}
	// An empty bucket makes the writer wait; a cancelled context ends it.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	slow := newLimiter(1, clock)
	if err := slow.wait(ctx, slow.chunk()); err != nil {
		t.Fatal(err)
	}
	if err := slow.wait(cctx, slow.chunk()); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	l.wait(ctx, 1<<10)
	if l.tokens >= 0 {
		t.Fatalf("tokens %v after overdraw", l.tokens)
	}
}

// TestValidateReportsEveryProblem: a section with several mistakes names
// each of them, so a technician fixes the file once.
func TestValidateReportsEveryProblem(t *testing.T) {
	err := Config{Kind: KindSFTP, Port: 70000, Window: "25:99-xx", Bucket: "b"}.Validate()
	if !errors.Is(err, ErrConfig) || !errors.Is(err, ErrWindow) {
		t.Fatalf("Validate: %v, want ErrConfig and ErrWindow", err)
	}
	for _, want := range []string{"host: is required", "port: 70000 out of range", "user: is required",
		"credentials_file: is required", "exactly one of known_hosts_file", "apply to s3 only", `window: invalid window: "25:99-xx"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v\nwant %q among the problems", err, want)
		}
	}
	err = Config{Kind: KindS3, Endpoint: "ftp://x", Bucket: "B", CAFile: "/nonexistent", PartSizeMB: 1}.Validate()
	for _, want := range []string{"endpoint: must look like", "bucket: \"B\" is not an S3 bucket name", "credentials_file: is required",
		"ca_file: needs an https endpoint", "part_size_mb: 1 out of range"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(s3): %v\nwant %q among the problems", err, want)
		}
	}
}
