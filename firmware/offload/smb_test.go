package offload

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/config/setting"
	"spanrec/firmware/offload/offloadtest"
)

// smbTestPassword is the Samba password of root on the test server.
const smbTestPassword = offloadtest.SMBPassword

// smbConfig is the target of e's share, logging in with creds.
func smbConfig(e *offloadtest.SMBD, creds string) Config {
	return Config{Kind: KindSMB, Host: e.Host, Port: e.Port, User: e.User, Share: e.ShareName,
		CredentialsFile: creds, Timeout: setting.Duration(20 * time.Second), Retry: Retry{Min: setting.Duration(time.Millisecond), Max: setting.Duration(time.Millisecond)}}
}

func TestSMBOffload(t *testing.T) {
	e := offloadtest.StartSMBD(t)
	creds := writeSecret(t, e.Dir, "creds", "password="+smbTestPassword+"\n", 0o600)
	scenario(t, smbConfig(e, creds), e.Share, e, []string{smbTestPassword})
}

func TestSMBSubdirectory(t *testing.T) {
	e := offloadtest.StartSMBD(t)
	creds := writeSecret(t, e.Dir, "creds", smbTestPassword+"\n", 0o600) // bare password form
	cfg := smbConfig(e, creds)
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
	checkShare(t, filepath.Join(e.Share, "box1", "spool"), src, []Item{it})
}

func TestSMBSecrets(t *testing.T) {
	e := offloadtest.StartSMBD(t)
	src := newTestSource(t)
	src.add(t, "20261125T090000Z-00000001", 1000)
	log, buf := testLogger()
	loose := writeSecret(t, e.Dir, "loose", "password="+smbTestPassword+"\n", 0o644)
	if _, err := New(smbConfig(e, loose), src, log); !errors.Is(err, ErrCredentialsMode) {
		t.Fatalf("0644 credentials: %v", err)
	}
	const wrong = "Wr0ng-SMB-password-8812"
	creds := writeSecret(t, e.Dir, "creds", "password="+wrong+"\n", 0o600)
	o, err := New(smbConfig(e, creds), src, log)
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
