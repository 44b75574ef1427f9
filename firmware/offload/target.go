package offload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path"
	"strings"
	"time"
)

// Errors of targets.
var (
	// ErrUnsafePath is returned for a remote or local name that is empty,
	// contains "..", a backslash or a NUL, or is absolute where it must not be.
	ErrUnsafePath = errors.New("offload: unsafe path")
	// ErrNotFile is returned when a name on the target is not a regular file.
	ErrNotFile = errors.New("offload: not a regular file")
	// ErrBadOffset is returned by OpenWrite for an offset beyond the end of
	// the existing file.
	ErrBadOffset = errors.New("offload: write offset beyond end of file")
	// ErrNotMounted is returned by a dir target with RequireMount whose
	// Path is not a mount point.
	ErrNotMounted = errors.New("offload: directory is not a mount point")
	// ErrHostKey is returned when the SFTP server's host key is not the
	// expected one.
	ErrHostKey = errors.New("offload: host key mismatch")
	// ErrChecksum is returned by ObjectTarget.Put when the store refused
	// the content because it does not have the SHA-256 it was sent with.
	ErrChecksum = errors.New("offload: the store refused the content's checksum")
)

// Target is where recordings are offloaded to. Names are slash-separated
// paths relative to the target's base directory (Config.Path), already
// checked by the caller (no "..", not absolute). A Target serves one
// goroutine at a time.
type Target interface {
	// Stat returns the size of the regular file name; exists is false
	// (and err nil) when there is no such file.
	Stat(ctx context.Context, name string) (size int64, exists bool, err error)
	// OpenWrite opens name for writing at offset, creating it when it is
	// missing and truncating it to offset (offset 0 starts afresh). The
	// data is durable on the target once Close returns nil.
	OpenWrite(ctx context.Context, name string, offset int64) (io.WriteCloser, error)
	// Open opens name for reading from its start.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// Rename moves from to to, replacing an existing to.
	Rename(ctx context.Context, from, to string) error
	// Remove deletes the file name; a missing file is not an error.
	Remove(ctx context.Context, name string) error
	// MkdirAll creates dir and its parents as needed.
	MkdirAll(ctx context.Context, dir string) error
	// Close releases the connection. Closing also aborts operations in
	// progress in other goroutines.
	Close() error
}

// ObjectTarget is a Target that keeps whole objects (an S3 bucket): it
// cannot append or rename, so the Offloader writes each file with one Put
// to its final name, the store checking the checksum as it arrives, and
// then reads it back as it does on every target. A Put that fails stores
// nothing under name.
type ObjectTarget interface {
	Target
	// Put stores size bytes read from r as name. sum is the lowercase
	// hex SHA-256 the content must have; the store refuses anything else
	// (the error wraps ErrChecksum). Every body sent to the store goes
	// through send (the bandwidth cap and the run's byte count), what is
	// only read to be hashed (the parts of an interrupted upload the store
	// holds already) does not. resumed tells that an interrupted upload of
	// name was continued.
	Put(ctx context.Context, name string, r io.Reader, size int64, sum string, send func(io.Reader) io.Reader) (resumed bool, err error)
}

// LockReporter is a Target that can say what its store's retention lock
// enforces (an S3 bucket's Object Lock).
type LockReporter interface {
	Lock() LockStatus
}

// Dial connects to the target described by cfg (validated first). The
// credentials file is read here and its secrets never leave the Target.
// Errors wrap ErrConfig or ErrCredentials(Mode) for configuration
// problems, ErrRemote for everything else (unreachable server, failed
// login, missing share or directory, host key mismatch).
func Dial(ctx context.Context, cfg Config) (Target, error) {
	if err := cfg.invalid(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	var t Target
	var err error
	switch cfg.Kind {
	case KindDir:
		t, err = openDir(cfg)
	case KindSFTP:
		t, err = dialSFTP(ctx, cfg)
	case KindSMB:
		t, err = dialSMB(ctx, cfg)
	case KindS3:
		t, err = dialS3(ctx, cfg)
	default:
		return nil, fmt.Errorf("%w: unknown kind %q", ErrConfig, cfg.Kind)
	}
	if err != nil {
		if errors.Is(err, ErrConfig) || errors.Is(err, ErrCredentials) || errors.Is(err, ErrCredentialsMode) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrRemote, err)
	}
	return t, nil
}

// cleanRemote checks a slash-separated path and returns it cleaned. It
// refuses "..", backslashes, NULs, the empty path and, unless allowAbs, an
// absolute one.
func cleanRemote(p string, allowAbs bool) (string, error) {
	if p == "" || strings.ContainsAny(p, "\\\x00") {
		return "", fmt.Errorf("%w: %q", ErrUnsafePath, p)
	}
	if path.IsAbs(p) && !allowAbs {
		return "", fmt.Errorf("%w: %q is absolute", ErrUnsafePath, p)
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." {
			return "", fmt.Errorf("%w: %q contains ..", ErrUnsafePath, p)
		}
	}
	c := path.Clean(p)
	if c == "." {
		return "", fmt.Errorf("%w: %q", ErrUnsafePath, p)
	}
	return c, nil
}

// tempName is the hidden temporary name a file is written under before
// it is verified and renamed to name: ".<base>.partial" in the same
// directory.
func tempName(name string) string {
	dir, base := path.Split(name)
	return dir + "." + base + ".partial"
}

// idleConn is a net.Conn that fails once it has been silent (no byte read
// or written) for timeout: every read and write pushes both deadlines
// forward, so a server that vanishes without closing the connection is
// noticed instead of blocking forever.
type idleConn struct {
	net.Conn
	timeout time.Duration
}

func (c *idleConn) touch() { _ = c.Conn.SetDeadline(time.Now().Add(c.timeout)) }

// Read implements io.Reader.
func (c *idleConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.touch()
	}
	return n, err
}

// Write implements io.Writer.
func (c *idleConn) Write(b []byte) (int, error) {
	c.touch()
	return c.Conn.Write(b)
}

// dialTCP connects to host:port within cfg.Timeout and wraps the
// connection in an idleConn.
func dialTCP(ctx context.Context, cfg Config) (net.Conn, error) {
	d := net.Dialer{Timeout: cfg.Timeout.Std()}
	addr := net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port))
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	ic := &idleConn{Conn: conn, timeout: cfg.Timeout.Std()}
	ic.touch()
	return ic, nil
}

// joinBase joins a target's base directory and a name.
func joinBase(base, name string) string {
	if base == "" {
		return name
	}
	return path.Join(base, name)
}
