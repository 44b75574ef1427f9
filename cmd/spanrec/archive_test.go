package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/firmware/offload"
	"spanrec/firmware/offload/offloadtest"
	"spanrec/firmware/storage"
)

// offloadS3 imports the sample call into a new data directory and
// offloads it (with its anchor) to bucket under prefix; with deleteLocal
// the local file goes after the verified copy, chained with its proof
// (which the run's anchor covers too). It returns the data directory
// and the recording's entry.
func offloadS3(t *testing.T, s *offloadtest.S3, bucket, prefix string, deleteLocal bool) (string, *index.Call) {
	t.Helper()
	data := t.TempDir()
	if code, out, errOut := spanrec(t, "import", "--data", data, sample); code != 0 {
		t.Fatalf("import exit %d: %s %s", code, out, errOut)
	}
	ix, err := index.Open(datadir.Layout(data).Index())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	cfg := offload.Config{Kind: offload.KindS3, Endpoint: s.Endpoint, Bucket: bucket, Prefix: prefix,
		CredentialsFile: s.CredentialsFile, DeleteAfterOffload: deleteLocal}
	o, err := offload.New(cfg, storage.NewOffloadSource(data, ix, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := o.RunOnce(context.Background())
	if err != nil || rep.Copied != 1 || rep.Anchor == "" {
		t.Fatalf("offload to %s: %+v %v", prefix, rep, err)
	}
	var rec *index.Call
	if err := ix.List(func(c *index.Call) error {
		if c.Recorded {
			rec = c
		}
		return nil
	}); err != nil || rec == nil {
		t.Fatalf("no recording in the index: %v", err)
	}
	return data, rec
}

// TestArchive: two appliances offload to one bucket (one deleting its
// local copy after the verified upload, with the deletion proof naming
// the object); `archive list` shows both, `archive verify` passes, then
// reports a replaced and a deleted object by name.
func TestArchive(t *testing.T) {
	s := offloadtest.StartS3(t)
	c, err := offload.NewS3Client(offload.Config{Kind: offload.KindS3, Endpoint: s.Endpoint, Bucket: "fleet",
		Prefix: "x", CredentialsFile: s.CredentialsFile})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.MakeBucket(ctx, "fleet", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	dataA, recA := offloadS3(t, s, "fleet", "site-a", true)
	_, recB := offloadS3(t, s, "fleet", "site-b", false)

	// site-a's recording is gone locally, with a proof naming the object:
	// verify --all accepts it.
	if _, err := os.Stat(filepath.Join(dataA, filepath.FromSlash(recA.File))); !os.IsNotExist(err) {
		t.Fatalf("site-a's local recording still there: %v", err)
	}
	if code, out, _ := spanrec(t, "verify", "--data", dataA, "--all"); code != 0 {
		t.Fatalf("verify --all after the s3 copy and the local deletion: exit %d\n%s", code, out)
	}

	conf := filepath.Join(t.TempDir(), "archive.yaml")
	yaml := "offload:\n  kind: s3\n  endpoint: " + s.Endpoint + "\n  bucket: fleet\n  credentials_file: " + s.CredentialsFile + "\n"
	if err := os.WriteFile(conf, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := spanrec(t, "archive", "list", "--target", conf)
	if code != 0 || !strings.Contains(out, "/fleet/site-a: 1 recordings") || !strings.Contains(out, "/fleet/site-b: 1 recordings") ||
		!strings.Contains(out, "site-a/"+strings.TrimPrefix(recA.File, "recordings/")) {
		t.Fatalf("archive list: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("archive list:\n%s", out)
	code, out, errOut = spanrec(t, "archive", "verify", "--target", conf)
	if code != 0 || strings.Count(out, "every signature valid, chain as anchored") != 2 ||
		!strings.Contains(out, "site-a: key ") || !strings.Contains(out, "1 anchors cover entries 1..2") {
		t.Fatalf("archive verify of an intact archive: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("archive verify:\n%s", out)

	// Replace site-a's recording with a changed copy, delete site-b's.
	keyA := offload.ObjectKey("site-a", recA.File)
	r, err := c.GetObject(ctx, "fleet", keyA, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	orig, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	changed := bytes.Clone(orig)
	changed[len(changed)/2] ^= 0x55
	if _, err := c.PutObject(ctx, "fleet", keyA, bytes.NewReader(changed), int64(len(changed)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	keyB := offload.ObjectKey("site-b", recB.File)
	if err := c.RemoveObject(ctx, "fleet", keyB, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = spanrec(t, "archive", "verify", "--target", conf)
	if code != 1 {
		t.Fatalf("archive verify of a tampered archive: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"INVALID: " + keyA + ": signature INVALID",
		"INVALID: " + keyA + ": CHANGED: sha256 ",
		"INVALID: " + keyA + ": differs from its manifest",
		"INVALID: " + keyB + ": MISSING: entry 1 (" + recB.ID,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("archive verify does not say %q:\n%s", want, out)
		}
	}
	t.Logf("archive verify after tampering:\n%s", out)

	// One appliance only; bad input.
	if code, out, _ := spanrec(t, "archive", "verify", "--target", conf, "--prefix", "site-a"); code != 1 || strings.Contains(out, "site-b") {
		t.Errorf("--prefix site-a: exit %d\n%s", code, out)
	}
	if code, _, _ := spanrec(t, "archive", "verify"); code != 2 {
		t.Errorf("no --target: exit %d", code)
	}
	if code, _, errOut := spanrec(t, "archive", "list", "--target", conf, "--prefix", "../x"); code == 0 || !strings.Contains(errOut, "not an appliance folder") {
		t.Errorf("bad prefix: exit %d %s", code, errOut)
	}
	dirConf := filepath.Join(t.TempDir(), "dir.yaml")
	if err := os.WriteFile(dirConf, []byte("offload:\n  kind: dir\n  path: /mnt\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := spanrec(t, "archive", "list", "--target", dirConf); code == 0 || !strings.Contains(errOut, "must be s3") {
		t.Errorf("a dir target: exit %d %s", code, errOut)
	}
}
