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

// sftpTarget is a directory on an SSH server, reached over SFTP.
type sftpTarget struct {
	ssh  *ssh.Client
	c    *sftp.Client
	base string
}

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
func dialSFTP(ctx context.Context, cfg Config) (*sftpTarget, error) {
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
		Timeout:         cfg.Timeout,
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
	t := &sftpTarget{ssh: client, c: fc, base: cfg.Path}
	if t.base != "" {
		// The base directory lives on the server: create it on demand.
		if err := fc.MkdirAll(t.base); err != nil {
			t.Close()
			return nil, fmt.Errorf("sftp mkdir %q: %w", cfg.Path, err)
		}
	}
	return t, nil
}

func (t *sftpTarget) path(name string) string { return joinBase(t.base, name) }

// Stat implements Target.
func (t *sftpTarget) Stat(_ context.Context, name string) (int64, bool, error) {
	st, err := t.c.Stat(t.path(name))
	return statResult(st, err, name)
}

// sftpWriter syncs (when the server supports fsync@openssh.com) before
// closing.
type sftpWriter struct{ *sftp.File }

// Close syncs and closes the remote file.
func (w sftpWriter) Close() error {
	serr := w.File.Sync()
	var se *sftp.StatusError
	if errors.As(serr, &se) && se.FxCode() == sftp.ErrSSHFxOpUnsupported {
		serr = nil
	}
	cerr := w.File.Close()
	if serr != nil {
		return serr
	}
	return cerr
}

// OpenWrite implements Target.
func (t *sftpTarget) OpenWrite(_ context.Context, name string, offset int64) (io.WriteCloser, error) {
	f, err := t.c.OpenFile(t.path(name), os.O_WRONLY|os.O_CREATE)
	if err != nil {
		return nil, err
	}
	if err := positionWriter(f, offset); err != nil {
		f.Close()
		return nil, err
	}
	return sftpWriter{f}, nil
}

// Open implements Target.
func (t *sftpTarget) Open(_ context.Context, name string) (io.ReadCloser, error) {
	return t.c.Open(t.path(name))
}

// Rename implements Target. It uses posix-rename@openssh.com, which
// replaces atomically; without it, it removes an existing destination
// first.
func (t *sftpTarget) Rename(_ context.Context, from, to string) error {
	if _, ok := t.c.HasExtension("posix-rename@openssh.com"); ok {
		return t.c.PosixRename(t.path(from), t.path(to))
	}
	if err := t.c.Remove(t.path(to)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return t.c.Rename(t.path(from), t.path(to))
}

// Remove implements Target.
func (t *sftpTarget) Remove(_ context.Context, name string) error {
	err := t.c.Remove(t.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// MkdirAll implements Target.
func (t *sftpTarget) MkdirAll(_ context.Context, dir string) error {
	return t.c.MkdirAll(t.path(dir))
}

// Close implements Target.
func (t *sftpTarget) Close() error {
	err := t.c.Close()
	if cerr := t.ssh.Close(); err == nil {
		err = cerr
	}
	return err
}
