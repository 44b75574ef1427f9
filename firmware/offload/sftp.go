package offload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKeyCallback builds the host key check of cfg: a known_hosts file, a
// pinned SHA-256 fingerprint or, only when explicitly configured, none.
func hostKeyCallback(cfg Config) (ssh.HostKeyCallback, error) {
	switch {
	case cfg.KnownHostsFile != "":
		cb, err := knownhosts.New(cfg.KnownHostsFile)
		if err != nil {
			return nil, fmt.Errorf("%w: known_hosts_file: %w", ErrConfig, err)
		}
		return func(host string, remote net.Addr, key ssh.PublicKey) error {
			if err := cb(host, remote, key); err != nil {
				return fmt.Errorf("%w: %s (%s): %w", ErrHostKey, host, ssh.FingerprintSHA256(key), err)
			}
			return nil
		}, nil
	case cfg.HostKeyFingerprint != "":
		want := cfg.HostKeyFingerprint
		return func(host string, _ net.Addr, key ssh.PublicKey) error {
			if got := ssh.FingerprintSHA256(key); got != want {
				return fmt.Errorf("%w: %s presented %s, want %s", ErrHostKey, host, got, want)
			}
			return nil
		}, nil
	case cfg.InsecureHostKey:
		return ssh.InsecureIgnoreHostKey(), nil //nolint:gosec // explicitly configured insecure_host_key
	}
	return nil, fmt.Errorf("%w: sftp needs known_hosts_file, host_key_fingerprint or insecure_host_key", ErrConfig)
}

// sshAuth turns credentials into SSH auth methods: the key first, then the
// password (also offered to keyboard-interactive prompts).
func sshAuth(cr credentials) ([]ssh.AuthMethod, error) {
	var methods []ssh.AuthMethod
	if len(cr.key) > 0 {
		var signer ssh.Signer
		var err error
		if cr.passphrase != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase(cr.key, []byte(cr.passphrase))
		} else {
			signer, err = ssh.ParsePrivateKey(cr.key)
		}
		if err != nil {
			// The parser's errors never quote key or passphrase; scrub anyway.
			return nil, fmt.Errorf("%w: private key: %w", ErrCredentials, scrub(err, cr.secrets()))
		}
		methods = append(methods, ssh.PublicKeys(signer))
	}
	if cr.password != "" {
		pw := cr.password
		methods = append(methods, ssh.Password(pw),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	if len(methods) == 0 {
		return nil, fmt.Errorf("%w: no password or key", ErrCredentials)
	}
	return methods, nil
}

// dialSFTP connects and logs in.
func dialSFTP(ctx context.Context, cfg Config) (*fileTarget, error) {
	hk, err := hostKeyCallback(cfg)
	if err != nil {
		return nil, err
	}
	cr, err := loadCredentials(cfg.CredentialsFile)
	if err != nil {
		return nil, err
	}
	auth, err := sshAuth(cr)
	if err != nil {
		return nil, err
	}
	conn, err := dialTCP(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("sftp connect %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	addr := net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port))
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, &ssh.ClientConfig{
		User:            cfg.User,
		Auth:            auth,
		HostKeyCallback: hk,
		Timeout:         cfg.Timeout.Std(),
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("sftp login %s@%s: %w", cfg.User, addr, scrub(err, cr.secrets()))
	}
	client := ssh.NewClient(sc, chans, reqs)
	fc, err := sftp.NewClient(client,
		sftp.UseConcurrentWrites(true),
		sftp.UseConcurrentReads(true),
		sftp.UseFstat(true))
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("sftp subsystem on %s: %w", addr, err)
	}
	base := cfg.Path
	closeAll := func() error {
		err := fc.Close()
		if cerr := client.Close(); err == nil {
			err = cerr
		}
		return err
	}
	if base != "" {
		// The base directory lives on the server: create it on demand.
		if err := fc.MkdirAll(base); err != nil {
			closeAll()
			return nil, fmt.Errorf("sftp mkdir %q: %w", cfg.Path, err)
		}
	}
	s := sftpFS{fc}
	return &fileTarget{
		fs:    func(context.Context) fileSystem { return s },
		path:  func(name string) string { return joinBase(base, name) },
		close: closeAll,
	}, nil
}

// sftpFS is an SFTP session as a fileSystem.
type sftpFS struct{ c *sftp.Client }

func (s sftpFS) Stat(name string) (fs.FileInfo, error)   { return s.c.Stat(name) }
func (s sftpFS) Open(name string) (io.ReadCloser, error) { return s.c.Open(name) }
func (s sftpFS) Remove(name string) error                { return s.c.Remove(name) }
func (s sftpFS) MkdirAll(dir string) error               { return s.c.MkdirAll(dir) }

func (s sftpFS) OpenWriter(name string) (writableFile, error) {
	f, err := s.c.OpenFile(name, os.O_WRONLY|os.O_CREATE)
	if err != nil {
		return nil, err
	}
	return sftpFile{f}, nil
}

// Replace uses posix-rename@openssh.com, which replaces atomically;
// without it, it removes an existing destination first.
func (s sftpFS) Replace(from, to string) error {
	if _, ok := s.c.HasExtension("posix-rename@openssh.com"); ok {
		return s.c.PosixRename(from, to)
	}
	if err := s.c.Remove(to); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return s.c.Rename(from, to)
}

// sftpFile syncs with fsync@openssh.com where the server has it.
type sftpFile struct{ *sftp.File }

// Sync implements writableFile; a server without fsync@openssh.com is no
// error.
func (f sftpFile) Sync() error {
	err := f.File.Sync()
	var se *sftp.StatusError
	if errors.As(err, &se) && se.FxCode() == sftp.ErrSSHFxOpUnsupported {
		return nil
	}
	return err
}
