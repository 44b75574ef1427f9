package offload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"spanrec/firmware/config/setting"
	"spanrec/firmware/offload/offloadtest"
)

// s3Config is the target of bucket on s, under prefix.
func s3Config(s *offloadtest.S3, bucket, prefix string) Config {
	return Config{Kind: KindS3, Endpoint: s.Endpoint, Bucket: bucket, Prefix: prefix,
		CredentialsFile: s.CredentialsFile, PartSizeMB: 5,
		Timeout: setting.Duration(20 * time.Second), Retry: Retry{Min: setting.Duration(time.Millisecond), Max: setting.Duration(time.Millisecond)}}
}

// s3Client is a plain client of s, to look at the bucket as an auditor
// would.
func s3Client(t *testing.T, s *offloadtest.S3) *minio.Client {
	t.Helper()
	c, _, err := newS3Client(s3Config(s, "unused", "x"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func makeBucket(t *testing.T, c *minio.Client, name string, lock bool) {
	t.Helper()
	if err := c.MakeBucket(context.Background(), name, minio.MakeBucketOptions{ObjectLocking: lock}); err != nil {
		t.Fatalf("make bucket %s (object lock %v): %v", name, lock, err)
	}
}

// objects lists bucket's objects under prefix (every version when
// versions): key -> content.
func objects(t *testing.T, c *minio.Client, bucket, prefix string) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	out := map[string][]byte{}
	for o := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("list %s/%s: %v", bucket, prefix, o.Err)
		}
		r, err := c.GetObject(ctx, bucket, o.Key, minio.GetObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatalf("get %s: %v", o.Key, err)
		}
		out[o.Key] = b
	}
	return out
}

// versions counts the versions (and delete markers) of key.
func versions(t *testing.T, c *minio.Client, bucket, key string) int {
	t.Helper()
	n := 0
	for o := range c.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if o.Err != nil {
			t.Fatalf("list versions of %s: %v", key, o.Err)
		}
		if o.Key == key {
			n++
		}
	}
	return n
}

// checkBucket asserts that bucket holds, under prefix, exactly the given
// recordings (bit-identical), their manifests and the public key.
func checkBucket(t *testing.T, c *minio.Client, bucket, prefix string, src *testSource, items []Item, extra ...string) {
	t.Helper()
	got := objects(t, c, bucket, prefix+"/")
	want := map[string][]byte{}
	pub, _ := src.PublicKey(context.Background())
	want[prefix+"/"+PublicKeyName] = pub
	for _, it := range items {
		want[ObjectKey(prefix, it.File)] = src.localBytes(t, it)
		m, _ := src.Manifest(context.Background(), it)
		want[ObjectKey(prefix, it.ManifestName())] = m
	}
	for _, k := range extra {
		want[k] = got[k]
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("missing object %s (have %v)", k, keys)
			continue
		}
		if !bytes.Equal(g, w) {
			t.Errorf("object %s differs (%d bytes, want %d)", k, len(g), len(w))
		}
	}
	if len(got) != len(want) {
		t.Errorf("bucket holds %d objects under %s/, want %d: %v", len(got), prefix, len(want), keys)
	}
}

// TestS3Offload: recordings (one PUT and multipart), manifests, the
// public key and an anchor land under PREFIX/YYYY/MM/DD and
// PREFIX/anchors, verified; a re-run only marks; the remote URL names
// the object.
func TestS3Offload(t *testing.T) {
	s := offloadtest.StartS3(t)
	c := s3Client(t, s)
	makeBucket(t, c, "archive", false)
	ctx := context.Background()
	src := &anchoring{testSource: newTestSource(t), next: "anchors/20261125T230000Z-000000000004.json"}
	items := []Item{src.add(t, "20261125T090000Z-00000001", 300<<10), src.add(t, "20261125T090100Z-00000002", 1),
		src.add(t, "20261125T090200Z-00000003", 5<<20), src.add(t, "20261125T090300Z-00000004", 12<<20+17)}
	cfg := s3Config(s, "archive", "site-a")
	log, logBuf := testLogger()
	o, err := New(cfg, src.testSource, log)
	if err != nil {
		t.Fatal(err)
	}
	oa, err := New(cfg, src, log)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := oa.RunOnce(ctx)
	if err != nil || rep.Copied != 4 || rep.Failed != 0 || rep.Anchor == "" {
		t.Fatalf("first run: %+v %v\n%s", rep, err, logBuf)
	}
	t.Logf("s3: %d objects, %d bytes in %v = %.1f MB/s (upload + read-back verify)", 2*len(items)+2, rep.Bytes,
		rep.Duration, float64(rep.Bytes)/rep.Duration.Seconds()/1e6)
	checkBucket(t, c, "archive", "site-a", src.testSource, items, "site-a/anchors/20261125T230000Z-000000000004.json")
	if st := oa.Status(); st.Lock == nil || st.Lock.Enabled || !strings.Contains(st.Lock.String(), "not enabled") {
		t.Errorf("status lock of a bucket without object lock: %+v", st.Lock)
	}
	remote := src.marked[items[3].ID]
	if want := s.Endpoint + "/archive/site-a/2026/11/25/" + items[3].ID + ".wav"; remote != want {
		t.Errorf("remote = %q, want %q", remote, want)
	}

	src.unmark()
	rep, err = o.RunOnce(ctx)
	if err != nil || rep.Skipped != 4 || rep.Copied != 0 {
		t.Fatalf("re-run: %+v %v", rep, err)
	}
	for _, it := range items {
		if n := versions(t, c, "archive", ObjectKey("site-a", it.File)); n != 1 {
			t.Errorf("%s: %d versions after the re-run, want 1", it.ID, n)
		}
	}

	huge := src.add(t, "20261125T110000Z-0000000c", 32<<20)
	rep, err = o.RunOnce(ctx)
	if err != nil || rep.Copied != 1 {
		t.Fatalf("throughput run: %+v %v", rep, err)
	}
	t.Logf("s3: 32 MiB (7 parts of 5 MiB) uploaded and verified in %v = %.1f MB/s", rep.Duration,
		float64(huge.Size)/rep.Duration.Seconds()/1e6)
	checkNoSecret(t, err, logBuf.String(), s.SecretKey)
}

// TestS3ChecksumRefused: the store refuses content whose SHA-256 is not
// the one sent (a wrong x-amz-checksum-sha256); a recording that differs
// from its index entry is refused so, by one PUT or multipart, and
// nothing is stored.
func TestS3ChecksumRefused(t *testing.T) {
	s := offloadtest.StartS3(t)
	c := s3Client(t, s)
	makeBucket(t, c, "archive", false)
	ctx := context.Background()

	// The server itself: a PUT with a wrong checksum header.
	data := []byte("what was recorded")
	wrong := sha256.Sum256([]byte("something else"))
	_, err := minio.Core{Client: c}.PutObject(ctx, "archive", "probe", bytes.NewReader(data), int64(len(data)), "", "",
		minio.PutObjectOptions{UserMetadata: map[string]string{"x-amz-checksum-sha256": base64.StdEncoding.EncodeToString(wrong[:])}})
	if err == nil || !checksumRefused(err) {
		t.Fatalf("PUT with a wrong x-amz-checksum-sha256: %v (code %q)", err, minio.ToErrorResponse(err).Code)
	}

	src := newTestSource(t)
	small := src.add(t, "20261125T090000Z-00000001", 100<<10)
	big := src.add(t, "20261125T090100Z-00000002", 11<<20)
	// The index entries say other content.
	for i := range src.items {
		h := src.items[i].SHA256
		if h[0] == '0' {
			h = "1" + h[1:]
		} else {
			h = "0" + h[1:]
		}
		src.items[i].SHA256 = h
	}
	o, err := New(s3Config(s, "archive", "site-a"), src, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := o.RunOnce(ctx)
	if !errors.Is(err, ErrItemsFailed) || rep.Failed != 2 || len(rep.Failures) != 2 {
		t.Fatalf("run: %+v %v", rep, err)
	}
	for _, f := range rep.Failures {
		if !errors.Is(f.Err, ErrLocalMismatch) {
			t.Errorf("%s: %v, want ErrLocalMismatch", f.ID, f.Err)
		}
	}
	for _, it := range []Item{small, big} {
		if _, ok := objects(t, c, "archive", "site-a/")[ObjectKey("site-a", it.File)]; ok {
			t.Errorf("%s stored although refused", it.ID)
		}
	}
	res, err := minio.Core{Client: c}.ListMultipartUploads(ctx, "archive", "site-a/", "", "", "", 100)
	if err != nil || len(res.Uploads) != 0 {
		t.Errorf("incomplete uploads left: %+v %v", res.Uploads, err)
	}
	if src.markedCount() != 0 {
		t.Errorf("marked %d refused recordings", src.markedCount())
	}
}

// TestS3ServerKilled: the server dies in the middle of a multipart
// upload; a run while it is down fails; once it is back the next run
// continues the upload from its stored parts, and every object is there
// once, with one version.
func TestS3ServerKilled(t *testing.T) {
	s := offloadtest.StartS3(t)
	c := s3Client(t, s)
	makeBucket(t, c, "archive", false)
	ctx := context.Background()
	src := newTestSource(t)
	first := src.add(t, "20261125T090000Z-00000001", 64<<10)
	big := src.add(t, "20261125T100000Z-0000000b", 26<<20)
	cfg := s3Config(s, "archive", "site-a")
	capped := cfg
	capped.BandwidthBytesPerSec = 4 << 20
	capped.Timeout = setting.Duration(10 * time.Second)
	oc, err := New(capped, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := oc.RunOnce(ctx)
		done <- err
	}()
	key := ObjectKey("site-a", big.File)
	core := minio.Core{Client: c}
	parts := 0
	waitFor(t, 120*time.Second, "two parts of the big upload on the server", func() bool {
		res, err := core.ListMultipartUploads(ctx, "archive", key, "", "", "", 10)
		if err != nil || len(res.Uploads) != 1 {
			return false
		}
		lp, err := core.ListObjectParts(ctx, "archive", key, res.Uploads[0].UploadID, 0, 100)
		parts = len(lp.ObjectParts)
		return err == nil && parts >= 2
	})
	s.Stop()
	select {
	case err = <-done:
	case <-time.After(90 * time.Second):
		t.Fatal("RunOnce did not return after the server was killed")
	}
	if !errors.Is(err, ErrRemote) || !strings.Contains(err.Error(), big.ID) {
		t.Fatalf("run with the server killed: %v", err)
	}
	t.Logf("s3: killed with %d parts of 5 MiB stored: %v", parts, err)
	if _, err := oc.RunOnce(ctx); !errors.Is(err, ErrRemote) {
		t.Fatalf("run with the server down: %v", err)
	}
	s.Start(t)
	o, err := New(cfg, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := o.RunOnce(ctx)
	// The stored parts are not sent again (the manifest and key are small).
	if err != nil || rep.Copied != 1 || rep.Resumed != 1 || rep.Bytes > big.Size-int64(parts)*(5<<20)+64<<10 {
		t.Fatalf("run after restart: %+v %v (%d parts of %d bytes were stored)", rep, err, parts, 5<<20)
	}
	t.Logf("s3: resumed: %d bytes sent of %d", rep.Bytes, big.Size)
	checkBucket(t, c, "archive", "site-a", src, []Item{first, big})
	for _, it := range []Item{first, big} {
		if n := versions(t, c, "archive", ObjectKey("site-a", it.File)); n != 1 {
			t.Errorf("%s: %d versions, want 1", it.ID, n)
		}
	}
	if res, err := core.ListMultipartUploads(ctx, "archive", "site-a/", "", "", "", 10); err != nil || len(res.Uploads) != 0 {
		t.Errorf("incomplete uploads left: %+v %v", res.Uploads, err)
	}
}

// TestS3TwoAppliances: two appliances with their own prefixes share a
// bucket; recordings with the same name stay apart, each with its key.
func TestS3TwoAppliances(t *testing.T) {
	s := offloadtest.StartS3(t)
	c := s3Client(t, s)
	makeBucket(t, c, "fleet", false)
	ctx := context.Background()
	a, b := newTestSource(t), newTestSource(t)
	ia := []Item{a.add(t, "20261125T090000Z-00000001", 2000), a.add(t, "20261125T090100Z-00000002", 3000)}
	ib := []Item{b.add(t, "20261125T090000Z-00000001", 4000)} // the same name, other content
	for _, x := range []struct {
		src    *testSource
		prefix string
	}{{a, "branch-north"}, {b, "branch-south"}} {
		o, err := New(s3Config(s, "fleet", x.prefix), x.src, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep, err := o.RunOnce(ctx); err != nil || rep.Copied != len(x.src.items) {
			t.Fatalf("%s: %+v %v", x.prefix, rep, err)
		}
	}
	checkBucket(t, c, "fleet", "branch-north", a, ia)
	checkBucket(t, c, "fleet", "branch-south", b, ib)
	if n := len(objects(t, c, "fleet", "")); n != 3*2+1*2 {
		t.Errorf("bucket holds %d objects, want 8", n)
	}
}

// TestS3ObjectLock: on a bucket with Object Lock every object gets the
// configured retention, the status says it is enforced, and deleting a
// locked version is refused.
func TestS3ObjectLock(t *testing.T) {
	s := offloadtest.StartS3(t)
	c := s3Client(t, s)
	makeBucket(t, c, "locked", true)
	ctx := context.Background()
	src := newTestSource(t)
	it := src.add(t, "20261125T090000Z-00000001", 50<<10)
	big := src.add(t, "20261125T090100Z-00000002", 6<<20)
	cfg := s3Config(s, "locked", "site-a")
	cfg.RetentionMode, cfg.RetentionDays = RetentionCompliance, 30
	o, err := New(cfg, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if rep, err := o.RunOnce(ctx); err != nil || rep.Copied != 2 {
		t.Fatalf("run: %+v %v", rep, err)
	}
	st := o.Status()
	if st.Lock == nil || !st.Lock.Enabled || st.Lock.Mode != RetentionCompliance || st.Lock.Days != 30 {
		t.Fatalf("status lock: %+v", st.Lock)
	}
	t.Logf("status: %s", st.Lock)
	for _, key := range []string{ObjectKey("site-a", it.File), ObjectKey("site-a", big.File),
		ObjectKey("site-a", it.ManifestName()), "site-a/" + PublicKeyName} {
		// The retention as HEAD reports it (versitygw answers
		// GetObjectRetention with an element minio-go does not parse).
		info, err := c.StatObject(ctx, "locked", key, minio.StatObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mode := info.Metadata.Get("X-Amz-Object-Lock-Mode")
		until, err := time.Parse(time.RFC3339, info.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date"))
		if mode != RetentionCompliance || err != nil || until.Before(start.Add(30*24*time.Hour-time.Minute)) {
			t.Errorf("%s retention: %q until %v (%v)", key, mode, until, err)
		}
		err = c.RemoveObject(ctx, "locked", key, minio.RemoveObjectOptions{VersionID: info.VersionID, GovernanceBypass: true})
		if err == nil {
			t.Errorf("deleting locked %s (version %s) was allowed", key, info.VersionID)
		} else {
			t.Logf("delete of %s refused: %v", key, err)
		}
		if _, err := c.StatObject(ctx, "locked", key, minio.StatObjectOptions{VersionID: info.VersionID}); err != nil {
			t.Errorf("%s gone after the refused delete: %v", key, err)
		}
	}
}

func TestValidateS3(t *testing.T) {
	dir := t.TempDir()
	creds := writeSecret(t, dir, "creds", "access_key=AK\nsecret_key=Sup3r-Secret\n", 0o600)
	ca := writeSecret(t, dir, "ca.pem", "-----BEGIN CERTIFICATE-----\n", 0o644)
	base := Config{Kind: KindS3, Endpoint: "https://s3.example.com", Bucket: "call-archive", Prefix: "site-1", CredentialsFile: creds}
	ok := []func(*Config){
		func(*Config) {},
		func(c *Config) { c.Endpoint = "http://127.0.0.1:9000/" },
		func(c *Config) { c.CAFile, c.Region = ca, "eu-central-1" },
		func(c *Config) { c.RetentionDays = 3650 }, // GOVERNANCE by default
		func(c *Config) { c.RetentionMode, c.RetentionDays, c.PartSizeMB = RetentionCompliance, 1, 64 },
	}
	for i, f := range ok {
		c := base
		f(&c)
		if err := c.Validate(); err != nil {
			t.Errorf("ok %d: %v", i, err)
		}
	}
	bad := map[string]func(*Config){
		"no endpoint":     func(c *Config) { c.Endpoint = "" },
		"ftp endpoint":    func(c *Config) { c.Endpoint = "ftp://h" },
		"endpoint path":   func(c *Config) { c.Endpoint = "https://h/bucket" },
		"endpoint user":   func(c *Config) { c.Endpoint = "https://ak:sk@h" },
		"no bucket":       func(c *Config) { c.Bucket = "" },
		"upper bucket":    func(c *Config) { c.Bucket = "Calls" },
		"bucket dash end": func(c *Config) { c.Bucket = "calls-" },
		"prefix slash":    func(c *Config) { c.Prefix = "a/b" },
		"prefix anchors":  func(c *Config) { c.Prefix = "anchors" },
		"prefix dot":      func(c *Config) { c.Prefix = ".x" },
		"no creds":        func(c *Config) { c.CredentialsFile = "" },
		"missing creds":   func(c *Config) { c.CredentialsFile = filepath.Join(dir, "none") },
		"ca over http":    func(c *Config) { c.Endpoint, c.CAFile = "http://h", ca },
		"missing ca":      func(c *Config) { c.CAFile = filepath.Join(dir, "none") },
		"mode":            func(c *Config) { c.RetentionMode, c.RetentionDays = "LEGAL", 1 },
		"days":            func(c *Config) { c.RetentionDays = -1 },
		"small part":      func(c *Config) { c.PartSizeMB = 1 },
		"host":            func(c *Config) { c.Host = "h" },
		"share":           func(c *Config) { c.Share = "s" },
	}
	for name, f := range bad {
		c := base
		f(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !errors.Is(err, ErrConfig) && !errors.Is(err, ErrCredentials) {
			t.Errorf("%s: %v wraps no package error", name, err)
		}
	}
	if err := (Config{Kind: KindDir, Path: "/mnt", Bucket: "b"}).Validate(); err == nil {
		t.Error("dir with a bucket accepted")
	}
	// The default prefix is the host name.
	c := base
	c.Prefix = ""
	if h := hostPrefix(); h != "" && c.WithDefaults().Prefix != h {
		t.Errorf("default prefix %q, want %q", c.WithDefaults().Prefix, h)
	}
	for _, h := range []string{"spanrec", "SpanRec", "localhost"} {
		if !genericHost(h) {
			t.Errorf("%q is not taken as generic", h)
		}
	}
	// Credentials: both keys or none, and the secret never printed.
	for _, body := range []string{"access_key=AK\n", "secret_key=SK\n"} {
		if _, _, err := parseCredentials([]byte(body)); !errors.Is(err, ErrCredentials) {
			t.Errorf("%q: %v", body, err)
		}
	}
	cr, err := loadCredentials(creds)
	if err != nil || cr.accessKey != "AK" || cr.secretKey != "Sup3r-Secret" {
		t.Fatalf("load: %v", err)
	}
	if s := fmt.Sprintf("%v %+v %#v %s", cr, cr, cr, base); strings.Contains(s, "Sup3r") {
		t.Errorf("secret printed: %s", s)
	}
	// A password file is no s3 credential.
	pw := writeSecret(t, dir, "pw", "password=x\n", 0o600)
	c = base
	c.CredentialsFile = pw
	if _, err := Dial(context.Background(), c); !errors.Is(err, ErrCredentials) {
		t.Errorf("dial with a password file: %v", err)
	}
}

// TestS3TLS: over HTTPS the endpoint's certificate must chain to ca_file;
// without it (system roots) the dial fails on the certificate.
func TestS3TLS(t *testing.T) {
	s := offloadtest.StartS3TLS(t)
	cfg := s3Config(s, "archive", "site-a")
	cfg.CAFile = s.CAFile
	c, _, err := newS3Client(cfg)
	if err != nil {
		t.Fatal(err)
	}
	makeBucket(t, c, "archive", false)
	src := newTestSource(t)
	it := src.add(t, "20261125T090000Z-00000001", 70<<10)
	o, err := New(cfg, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := o.RunOnce(context.Background()); err != nil || rep.Copied != 1 {
		t.Fatalf("run over TLS: %+v %v", rep, err)
	}
	checkBucket(t, c, "archive", "site-a", src, []Item{it})
	if !strings.HasPrefix(src.marked[it.ID], "https://") {
		t.Errorf("remote %q", src.marked[it.ID])
	}
	cfg.CAFile = ""
	if _, err := Dial(context.Background(), cfg); !errors.Is(err, ErrRemote) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("dial without the CA: %v", err)
	}
}
