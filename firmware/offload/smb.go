package offload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"time"

	"github.com/hirochachacha/go-smb2"
)

// smbTarget is a directory in an SMB 2/3 share.
type smbTarget struct {
	conn    net.Conn
	session *smb2.Session
	share   *smb2.Share
	base    string
}

// dialSMB connects, authenticates with NTLM and mounts the share.
func dialSMB(ctx context.Context, cfg Config) (*smbTarget, error) {
	cr, err := loadCredentials(cfg.CredentialsFile)
	if err != nil {
		return nil, err
	}
	if cr.password == "" {
		return nil, fmt.Errorf("%w: smb needs a password", ErrCredentials)
	}
	conn, err := dialTCP(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("smb connect %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	d := &smb2.Dialer{Initiator: &smb2.NTLMInitiator{
		User:     cfg.User,
		Password: cr.password,
		Domain:   cfg.Domain,
	}}
	s, err := d.DialContext(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("smb login %s@%s:%d: %w", cfg.User, cfg.Host, cfg.Port, scrub(err, cr.secrets()))
	}
	sh, err := s.WithContext(ctx).Mount(`\\` + cfg.Host + `\` + cfg.Share)
	if err != nil {
		_ = s.Logoff()
		conn.Close()
		return nil, fmt.Errorf("smb mount %q on %s: %w", cfg.Share, cfg.Host, err)
	}
	t := &smbTarget{conn: conn, session: s, share: sh, base: strings.Trim(cfg.Path, "/")}
	if t.base != "" {
		// The base directory lives inside the share: create it on demand.
		if err := sh.WithContext(ctx).MkdirAll(t.path(""), 0o755); err != nil {
			t.Close()
			return nil, fmt.Errorf("smb mkdir %q: %w", cfg.Path, err)
		}
	}
	return t, nil
}

// path maps a name to the share's backslash form.
func (t *smbTarget) path(name string) string {
	return strings.ReplaceAll(joinBase(t.base, name), "/", `\`)
}

func (t *smbTarget) fs(ctx context.Context) *smb2.Share { return t.share.WithContext(ctx) }

// Stat implements Target.
func (t *smbTarget) Stat(ctx context.Context, name string) (int64, bool, error) {
	st, err := t.fs(ctx).Stat(t.path(name))
	return statResult(st, err, name)
}

// smbWriter flushes before closing.
type smbWriter struct{ *smb2.File }

// Close flushes and closes the remote file.
func (w smbWriter) Close() error {
	serr := w.File.Sync()
	cerr := w.File.Close()
	if serr != nil {
		return serr
	}
	return cerr
}

// OpenWrite implements Target.
func (t *smbTarget) OpenWrite(ctx context.Context, name string, offset int64) (io.WriteCloser, error) {
	// Read access too: positionWriter queries the size, which a
	// write-only SMB handle may not.
	f, err := t.fs(ctx).OpenFile(t.path(name), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := positionWriter(f, offset); err != nil {
		f.Close()
		return nil, err
	}
	return smbWriter{f}, nil
}

// Open implements Target.
func (t *smbTarget) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	return t.fs(ctx).Open(t.path(name))
}

// Rename implements Target. SMB's rename does not replace, so an existing
// destination is removed first.
func (t *smbTarget) Rename(ctx context.Context, from, to string) error {
	sh := t.fs(ctx)
	if err := sh.Remove(t.path(to)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return sh.Rename(t.path(from), t.path(to))
}

// Remove implements Target.
func (t *smbTarget) Remove(ctx context.Context, name string) error {
	err := t.fs(ctx).Remove(t.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// MkdirAll implements Target.
func (t *smbTarget) MkdirAll(ctx context.Context, dir string) error {
	return t.fs(ctx).MkdirAll(t.path(dir), 0o755)
}

// Close implements Target. A dead server makes the polite tree disconnect
// and logoff fail; the TCP connection is closed in any case.
func (t *smbTarget) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), smbCloseTimeout)
	defer cancel()
	_ = t.share.WithContext(ctx).Umount()
	_ = t.session.WithContext(ctx).Logoff()
	return t.conn.Close()
}

// smbCloseTimeout bounds the polite tree disconnect and logoff of Close.
const smbCloseTimeout = 5 * time.Second
