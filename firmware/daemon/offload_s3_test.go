package daemon

import (
	"context"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"golang.org/x/crypto/bcrypt"

	"spanrec/firmware/offload"
	"spanrec/firmware/offload/offloadtest"
	"spanrec/firmware/storage"
	"spanrec/firmware/users"
)

// TestConsoleOffloadStatusObjectLock: the console's offload status says
// what an s3 bucket's Object Lock enforces: not known before a run, then
// enforced with the configured retention.
func TestConsoleOffloadStatusObjectLock(t *testing.T) {
	s := offloadtest.StartS3(t)
	dir, ix := importSample(t)
	cfg := offload.Config{Kind: offload.KindS3, Endpoint: s.Endpoint, Bucket: "locked", Prefix: "site-a",
		CredentialsFile: s.CredentialsFile, RetentionMode: offload.RetentionGovernance, RetentionDays: 7}
	c, err := offload.NewS3Client(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.MakeBucket(context.Background(), "locked", minio.MakeBucketOptions{ObjectLocking: true}); err != nil {
		t.Fatal(err)
	}
	o, err := offload.New(cfg, storage.NewOffloadSource(dir, ix, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := NewConsoleBackend(BackendConfig{DataDir: dir, Index: ix,
		ConsoleOptions: ConsoleOptions{Users: users.Options{Cost: bcrypt.MinCost}, Offloader: o}})
	st, err := b.Offload.OffloadStatus()
	if err != nil || !strings.Contains(st.ObjectLock, "not known yet") {
		t.Fatalf("before a run: %+v %v", st, err)
	}
	if rep, err := o.RunOnce(context.Background()); err != nil || rep.Copied != 1 {
		t.Fatalf("run: %+v %v", rep, err)
	}
	st, err = b.Offload.OffloadStatus()
	if err != nil || st.ObjectLock != "object lock: enforced, each object locked GOVERNANCE for 7 days" {
		t.Fatalf("after a run: %q %v", st.ObjectLock, err)
	}
}
