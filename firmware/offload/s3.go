package offload

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // an S3 ETag is an MD5; only compared, never trusted alone
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	s3creds "github.com/minio/minio-go/v7/pkg/credentials"
)

// ErrObjectStore is returned by the s3 target's OpenWrite and Rename: an
// object store keeps whole objects (see ObjectTarget).
var ErrObjectStore = errors.New("offload: s3 stores whole objects (no append or rename)")

// s3Target is a bucket on an S3-compatible object store. Every name is
// stored under the appliance's prefix (see ObjectKey).
type s3Target struct {
	c        *minio.Client
	core     minio.Core
	tr       *http.Transport
	bucket   string
	prefix   string
	partSize int64
	days     int
	mode     minio.RetentionMode
	lock     LockStatus
	now      func() time.Time
}

// LockStatus is what a bucket's Object Lock enforces.
type LockStatus struct {
	// Enabled tells that the bucket has Object Lock.
	Enabled bool `json:"enabled"`
	// Mode and Days are the retention set on every object the appliance
	// writes ("" and 0: none of its own).
	Mode string `json:"mode,omitempty"`
	Days int    `json:"days,omitempty"`
	// BucketDefault is the bucket's default retention ("GOVERNANCE 30
	// DAYS"), "" when it has none.
	BucketDefault string `json:"bucket_default,omitempty"`
}

// String describes s for a status line.
func (s LockStatus) String() string {
	if !s.Enabled {
		return "object lock: not enabled on the bucket (objects can be overwritten or deleted)"
	}
	var parts []string
	if s.Days > 0 {
		parts = append(parts, fmt.Sprintf("each object locked %s for %d days", s.Mode, s.Days))
	}
	if s.BucketDefault != "" {
		parts = append(parts, "bucket default "+s.BucketDefault)
	}
	if len(parts) == 0 {
		return "object lock: enabled, but no retention (set retention_days or a bucket default)"
	}
	return "object lock: enforced, " + strings.Join(parts, "; ")
}

// ObjectKey is the key of the target name under prefix: a recording's
// "recordings/YYYY/MM/DD/<id>.wav" is "PREFIX/YYYY/MM/DD/<id>.wav",
// anything else (anchors/..., spanrec.pub) is "PREFIX/<name>".
func ObjectKey(prefix, name string) string {
	if rest, ok := strings.CutPrefix(name, "recordings/"); ok {
		return prefix + "/" + rest
	}
	return prefix + "/" + name
}

// s3Transport is the HTTP transport of cfg: dial timeout, connections
// that fail once silent for cfg.Timeout, and the CA bundle.
func s3Transport(cfg Config) (*http.Transport, error) {
	tr := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: cfg.Timeout.Std()}
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			ic := &idleConn{Conn: conn, timeout: cfg.Timeout.Std()}
			ic.touch()
			return ic, nil
		},
		TLSHandshakeTimeout:   cfg.Timeout.Std(),
		ResponseHeaderTimeout: cfg.Timeout.Std(),
		ExpectContinueTimeout: time.Second,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: ca_file: %w", ErrConfig, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: ca_file %q holds no PEM certificate", ErrConfig, cfg.CAFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return tr, nil
}

// newS3Client builds the minio client of cfg (no request yet).
func newS3Client(cfg Config) (*minio.Client, *http.Transport, error) {
	cr, err := loadCredentials(cfg.CredentialsFile)
	if err != nil {
		return nil, nil, err
	}
	if cr.accessKey == "" {
		return nil, nil, fmt.Errorf("%w: s3 needs access_key= and secret_key= lines (%q)", ErrCredentials, cfg.CredentialsFile)
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: endpoint: %w", ErrConfig, err)
	}
	tr, err := s3Transport(cfg)
	if err != nil {
		return nil, nil, err
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        s3creds.NewStaticV4(cr.accessKey, cr.secretKey, ""),
		Secure:       u.Scheme == "https",
		Transport:    tr,
		Region:       cfg.Region,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   1, // the Offloader retries whole runs with backoff
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: s3: %w", ErrConfig, scrub(err, cr.secrets()))
	}
	return c, tr, nil
}

// dialS3 connects to the bucket and reads its Object Lock configuration.
func dialS3(ctx context.Context, cfg Config) (*s3Target, error) {
	c, tr, err := newS3Client(cfg)
	if err != nil {
		return nil, err
	}
	t := &s3Target{c: c, core: minio.Core{Client: c}, tr: tr, bucket: cfg.Bucket, prefix: cfg.Prefix,
		partSize: cfg.PartSizeMB << 20, now: time.Now}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		tr.CloseIdleConnections()
		return nil, fmt.Errorf("s3 %s bucket %s: %w", cfg.Endpoint, cfg.Bucket, err)
	}
	if !ok {
		tr.CloseIdleConnections()
		return nil, fmt.Errorf("s3 %s: no bucket %q", cfg.Endpoint, cfg.Bucket)
	}
	if t.lock, err = bucketLock(ctx, c, cfg.Bucket); err != nil {
		tr.CloseIdleConnections()
		return nil, fmt.Errorf("s3 %s bucket %s: object lock configuration: %w", cfg.Endpoint, cfg.Bucket, err)
	}
	if t.lock.Enabled && cfg.RetentionDays > 0 {
		t.days, t.mode = cfg.RetentionDays, minio.RetentionMode(cfg.RetentionMode)
		t.lock.Days, t.lock.Mode = t.days, cfg.RetentionMode
	}
	return t, nil
}

// bucketLock reads a bucket's Object Lock configuration; a bucket
// without one (or a store without Object Lock) is not an error.
func bucketLock(ctx context.Context, c *minio.Client, bucket string) (LockStatus, error) {
	enabled, mode, validity, unit, err := c.GetObjectLockConfig(ctx, bucket)
	if err != nil {
		switch minio.ToErrorResponse(err).Code {
		case "ObjectLockConfigurationNotFoundError", "NotImplemented", "MethodNotAllowed":
			return LockStatus{}, nil
		}
		return LockStatus{}, err
	}
	s := LockStatus{Enabled: enabled == "Enabled"}
	if mode != nil && validity != nil && unit != nil {
		s.BucketDefault = fmt.Sprintf("%s %d %s", *mode, *validity, *unit)
	}
	return s, nil
}

// Lock implements LockReporter.
func (t *s3Target) Lock() LockStatus { return t.lock }

func (t *s3Target) key(name string) string { return ObjectKey(t.prefix, name) }

// notFound tells a missing object from other errors.
func notFound(err error) bool {
	switch minio.ToErrorResponse(err).Code {
	case "NoSuchKey", "NotFound", "NoSuchObject":
		return true
	}
	return false
}

// checksumRefused tells a store's refusal of a checksum from other errors.
func checksumRefused(err error) bool {
	switch minio.ToErrorResponse(err).Code {
	case "BadDigest", "XAmzContentSHA256Mismatch", "InvalidDigest", "XAmzContentChecksumMismatch", "InvalidChecksum":
		return true
	}
	return false
}

// Stat implements Target.
func (t *s3Target) Stat(ctx context.Context, name string) (int64, bool, error) {
	info, err := t.c.StatObject(ctx, t.bucket, t.key(name), minio.StatObjectOptions{})
	if err != nil {
		if notFound(err) {
			return 0, false, nil
		}
		return 0, false, err
	}
	return info.Size, true, nil
}

// Open implements Target.
func (t *s3Target) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	r, _, _, err := t.core.GetObject(ctx, t.bucket, t.key(name), minio.GetObjectOptions{})
	return r, err
}

// OpenWrite implements Target; an object store cannot append.
func (t *s3Target) OpenWrite(context.Context, string, int64) (io.WriteCloser, error) {
	return nil, ErrObjectStore
}

// Rename implements Target; an object store cannot rename.
func (t *s3Target) Rename(context.Context, string, string) error { return ErrObjectStore }

// Remove implements Target. On a versioned bucket (any bucket with
// Object Lock) it only adds a delete marker; locked versions stay.
func (t *s3Target) Remove(ctx context.Context, name string) error {
	err := t.c.RemoveObject(ctx, t.bucket, t.key(name), minio.RemoveObjectOptions{})
	if err != nil && notFound(err) {
		return nil
	}
	return err
}

// MkdirAll implements Target: an object store has no folders.
func (t *s3Target) MkdirAll(context.Context, string) error { return nil }

// Close implements Target.
func (t *s3Target) Close() error {
	t.tr.CloseIdleConnections()
	return nil
}

// putOptions are the headers of every new object: its retention when the
// bucket has Object Lock and retention_days is set.
func (t *s3Target) putOptions() minio.PutObjectOptions {
	var o minio.PutObjectOptions
	if t.days > 0 {
		o.Mode = t.mode
		o.RetainUntilDate = t.now().Add(time.Duration(t.days) * 24 * time.Hour).UTC().Truncate(time.Second)
	}
	return o
}

// Put implements ObjectTarget. A file up to the part size is one PUT
// carrying its SHA-256 as payload hash and as x-amz-checksum-sha256, both
// checked by the store; a larger one is a multipart upload whose parts
// carry theirs, completed only when the whole file's SHA-256 is sum. An
// interrupted multipart upload of the same key is continued: its parts
// whose checksum matches the file are kept.
func (t *s3Target) Put(ctx context.Context, name string, r io.Reader, size int64, sum string, send func(io.Reader) io.Reader) (bool, error) {
	want, err := hex.DecodeString(sum)
	if err != nil || len(want) != sha256.Size {
		return false, fmt.Errorf("%w: sha256 %q", ErrItem, sum)
	}
	key := t.key(name)
	if size <= t.partSize {
		opts := t.putOptions()
		opts.UserMetadata = map[string]string{"x-amz-checksum-sha256": base64.StdEncoding.EncodeToString(want)}
		opts.ContentType = contentType(name)
		_, err := t.core.PutObject(ctx, t.bucket, key, send(r), size, "", sum, opts)
		if err != nil && checksumRefused(err) {
			return false, fmt.Errorf("%w: %s: %w", ErrChecksum, key, err)
		}
		return false, err
	}
	return t.putMultipart(ctx, key, contentType(name), r, size, want, send)
}

// contentType is the MIME type an object is stored with.
func contentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".wav"):
		return "audio/wav"
	case strings.HasSuffix(name, ".json"):
		return "application/json"
	case strings.HasSuffix(name, ".pcapng"):
		return "application/x-pcapng"
	}
	return "application/octet-stream"
}

// existingUpload finds an incomplete multipart upload of key and its
// parts by number; "" when there is none.
func (t *s3Target) existingUpload(ctx context.Context, key string) (string, map[int]minio.ObjectPart, error) {
	res, err := t.core.ListMultipartUploads(ctx, t.bucket, key, "", "", "", 1000)
	if err != nil {
		return "", nil, err
	}
	id := ""
	for _, u := range res.Uploads {
		if u.Key != key {
			continue
		}
		if id == "" {
			id = u.UploadID
			continue
		}
		// More than one: keep the first, drop the others.
		if err := t.core.AbortMultipartUpload(ctx, t.bucket, key, u.UploadID); err != nil {
			return "", nil, err
		}
	}
	if id == "" {
		return "", nil, nil
	}
	parts := map[int]minio.ObjectPart{}
	marker := 0
	for {
		lp, err := t.core.ListObjectParts(ctx, t.bucket, key, id, marker, 1000)
		if err != nil {
			return "", nil, err
		}
		for _, p := range lp.ObjectParts {
			parts[p.PartNumber] = p
		}
		if !lp.IsTruncated {
			return id, parts, nil
		}
		marker = lp.NextPartNumberMarker
	}
}

// putMultipart uploads r in parts of t.partSize, reusing the matching
// parts of an interrupted upload of key.
func (t *s3Target) putMultipart(ctx context.Context, key, ctype string, r io.Reader, size int64, want []byte,
	send func(io.Reader) io.Reader) (resumed bool, err error) {
	id, have, err := t.existingUpload(ctx, key)
	if err != nil {
		return false, err
	}
	if id == "" {
		opts := t.putOptions()
		opts.ContentType = ctype
		opts.UserMetadata = map[string]string{"x-amz-checksum-algorithm": "SHA256"}
		if id, err = t.core.NewMultipartUpload(ctx, t.bucket, key, opts); err != nil {
			return false, err
		}
	}
	whole := sha256.New()
	buf := make([]byte, t.partSize)
	var done []minio.CompletePart
	var sent int64
	for n := 1; sent < size; n++ {
		if err := ctx.Err(); err != nil {
			return resumed, err
		}
		m, rerr := io.ReadFull(r, buf[:min(int64(len(buf)), size-sent)])
		if rerr != nil {
			return resumed, fmt.Errorf("%w: read at %d: %w", ErrLocal, sent, rerr)
		}
		part := buf[:m]
		sent += int64(m)
		whole.Write(part)
		ps := sha256.Sum256(part)
		b64 := base64.StdEncoding.EncodeToString(ps[:])
		if p, ok := have[n]; ok && p.Size == int64(m) && partMatches(p, part, b64) {
			done = append(done, minio.CompletePart{PartNumber: n, ETag: p.ETag, ChecksumSHA256: b64})
			resumed = true
			continue
		}
		md := md5.Sum(part) //nolint:gosec // Content-MD5, as S3 asks with Object Lock
		p, err := t.core.PutObjectPart(ctx, t.bucket, key, id, n, send(bytes.NewReader(part)), int64(m), minio.PutObjectPartOptions{
			Md5Base64:    base64.StdEncoding.EncodeToString(md[:]),
			Sha256Hex:    hex.EncodeToString(ps[:]),
			CustomHeader: http.Header{"X-Amz-Checksum-Sha256": []string{b64}},
		})
		if err != nil {
			if checksumRefused(err) {
				return resumed, fmt.Errorf("%w: %s part %d: %w", ErrChecksum, key, n, err)
			}
			return resumed, err
		}
		done = append(done, minio.CompletePart{PartNumber: n, ETag: p.ETag, ChecksumSHA256: b64})
	}
	if !bytes.Equal(whole.Sum(nil), want) {
		// The file is not what its index entry says: store nothing.
		if err := t.core.AbortMultipartUpload(ctx, t.bucket, key, id); err != nil {
			return resumed, err
		}
		return resumed, fmt.Errorf("%w: %s: sha256 %x, want %x", ErrChecksum, key, whole.Sum(nil), want)
	}
	if _, err := t.core.CompleteMultipartUpload(ctx, t.bucket, key, id, done, minio.PutObjectOptions{}); err != nil {
		return resumed, err
	}
	return resumed, nil
}

// partMatches tells whether an uploaded part holds data: by its SHA-256
// checksum when the store lists one, else by its MD5 ETag.
func partMatches(p minio.ObjectPart, data []byte, sha256B64 string) bool {
	if p.ChecksumSHA256 != "" {
		return p.ChecksumSHA256 == sha256B64
	}
	md := md5.Sum(data) //nolint:gosec // ETag comparison only
	return strings.Trim(p.ETag, `"`) == hex.EncodeToString(md[:])
}

// NewS3Client returns a client of cfg's object store (cfg is validated
// first; the credentials file is read here), for tools that read an
// archive (spanrec archive) rather than offload to it.
func NewS3Client(cfg Config) (*minio.Client, error) {
	if err := cfg.invalid(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	if cfg.Kind != KindS3 {
		return nil, fmt.Errorf("%w: kind %q is not s3", ErrConfig, cfg.Kind)
	}
	c, _, err := newS3Client(cfg)
	return c, err
}
