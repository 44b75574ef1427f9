package offload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/hirochachacha/go-smb2"
)

// dialSMB connects, authenticates with NTLM and mounts the share.
func dialSMB(ctx context.Context, cfg Config) (*fileTarget, error) {
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
	base := strings.Trim(cfg.Path, "/")
	path := func(name string) string { return strings.ReplaceAll(joinBase(base, name), "/", `\`) }
	closeAll := func() error {
		// A dead server makes the polite tree disconnect and logoff fail;
		// the TCP connection is closed in any case.
		ctx, cancel := context.WithTimeout(context.Background(), smbCloseTimeout)
		defer cancel()
		_ = sh.WithContext(ctx).Umount()
		_ = s.WithContext(ctx).Logoff()
		return conn.Close()
	}
	if base != "" {
		// The base directory lives inside the share: create it on demand.
		if err := sh.WithContext(ctx).MkdirAll(path(""), 0o755); err != nil {
			closeAll()
			return nil, fmt.Errorf("smb mkdir %q: %w", cfg.Path, err)
		}
	}
	return &fileTarget{
		fs:    func(ctx context.Context) fileSystem { return smbFS{sh.WithContext(ctx)} },
		path:  path,
		close: closeAll,
	}, nil
}

// smbCloseTimeout bounds the polite tree disconnect and logoff of Close.
const smbCloseTimeout = 5 * time.Second

// smbFS is a mounted share as a fileSystem.
type smbFS struct{ sh *smb2.Share }

func (s smbFS) Stat(name string) (fs.FileInfo, error)   { return s.sh.Stat(name) }
func (s smbFS) Open(name string) (io.ReadCloser, error) { return s.sh.Open(name) }
func (s smbFS) Remove(name string) error                { return s.sh.Remove(name) }
func (s smbFS) MkdirAll(dir string) error               { return s.sh.MkdirAll(dir, 0o755) }

// OpenWriter opens with read access too: positionWriter queries the size,
// which a write-only SMB handle may not.
func (s smbFS) OpenWriter(name string) (writableFile, error) {
	return s.sh.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
}

// Replace removes an existing destination first: SMB's rename does not
// replace.
func (s smbFS) Replace(from, to string) error {
	if err := s.sh.Remove(to); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return s.sh.Rename(from, to)
}
