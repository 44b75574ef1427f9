package offload

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// openDir checks that cfg.Path is an existing directory (and, with
// RequireMount, a mount point). It never creates Path itself: a missing
// mount must not turn into a local directory.
func openDir(cfg Config) (*fileTarget, error) {
	base := filepath.Clean(cfg.Path)
	st, err := os.Stat(base)
	if err != nil {
		return nil, fmt.Errorf("dir %q: %w", base, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: dir %q is not a directory", ErrConfig, base)
	}
	if cfg.RequireMount {
		parent, err := os.Stat(filepath.Dir(base))
		if err != nil {
			return nil, fmt.Errorf("dir %q: %w", base, err)
		}
		a, ok1 := st.Sys().(*syscall.Stat_t)
		b, ok2 := parent.Sys().(*syscall.Stat_t)
		if !ok1 || !ok2 || (a.Dev == b.Dev && a.Ino != b.Ino) {
			return nil, fmt.Errorf("%w: %q", ErrNotMounted, base)
		}
	}
	d := dirFS{}
	return &fileTarget{
		fs:   func(context.Context) fileSystem { return d },
		path: func(name string) string { return filepath.Join(base, filepath.FromSlash(name)) },
	}, nil
}

// dirFS is a mounted directory as a fileSystem.
type dirFS struct{}

func (dirFS) Stat(name string) (fs.FileInfo, error)   { return os.Stat(name) }
func (dirFS) Open(name string) (io.ReadCloser, error) { return os.Open(name) }
func (dirFS) Remove(name string) error                { return os.Remove(name) }
func (dirFS) MkdirAll(dir string) error               { return os.MkdirAll(dir, 0o755) }

func (dirFS) OpenWriter(name string) (writableFile, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE, 0o644)
}

// Replace renames (which replaces on a local file system) and syncs the
// directory to make the rename durable; a directory that cannot be synced
// (some network file systems) is not an error.
func (dirFS) Replace(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	if dir, err := os.Open(filepath.Dir(to)); err == nil {
		_ = dir.Sync()
		dir.Close()
	}
	return nil
}
