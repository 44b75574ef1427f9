package offload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// dirTarget is a mounted directory.
type dirTarget struct {
	base string
}

// openDir checks that cfg.Path is an existing directory (and, with
// RequireMount, a mount point). It never creates Path itself: a missing
// mount must not turn into a local directory.
func openDir(cfg Config) (*dirTarget, error) {
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
	return &dirTarget{base: base}, nil
}

func (d *dirTarget) path(name string) string { return filepath.Join(d.base, filepath.FromSlash(name)) }

// Stat implements Target.
func (d *dirTarget) Stat(_ context.Context, name string) (int64, bool, error) {
	st, err := os.Stat(d.path(name))
	return statResult(st, err, name)
}

// statResult turns a target's stat answer into Stat's: a missing file is
// no error, anything but a regular file is ErrNotFile.
func statResult(st fs.FileInfo, err error, name string) (int64, bool, error) {
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if !st.Mode().IsRegular() {
		return 0, false, fmt.Errorf("%w: %q", ErrNotFile, name)
	}
	return st.Size(), true, nil
}

// syncFile is an *os.File whose Close syncs first.
type syncFile struct{ *os.File }

// Close syncs and closes the file.
func (f syncFile) Close() error {
	serr := f.File.Sync()
	cerr := f.File.Close()
	if serr != nil {
		return serr
	}
	return cerr
}

// OpenWrite implements Target.
func (d *dirTarget) OpenWrite(_ context.Context, name string, offset int64) (io.WriteCloser, error) {
	f, err := os.OpenFile(d.path(name), os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := positionWriter(f, offset); err != nil {
		f.Close()
		return nil, err
	}
	return syncFile{f}, nil
}

// truncSeeker is what positionWriter needs of an open file.
type truncSeeker interface {
	Stat() (os.FileInfo, error)
	Truncate(size int64) error
	Seek(offset int64, whence int) (int64, error)
}

// positionWriter truncates f to offset and moves to it, refusing an offset
// beyond the end.
func positionWriter(f truncSeeker, offset int64) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if offset < 0 || offset > st.Size() {
		return fmt.Errorf("%w: %d > %d", ErrBadOffset, offset, st.Size())
	}
	if st.Size() != offset {
		if err := f.Truncate(offset); err != nil {
			return err
		}
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return err
	}
	return nil
}

// Open implements Target.
func (d *dirTarget) Open(_ context.Context, name string) (io.ReadCloser, error) {
	return os.Open(d.path(name))
}

// Rename implements Target.
func (d *dirTarget) Rename(_ context.Context, from, to string) error {
	if err := os.Rename(d.path(from), d.path(to)); err != nil {
		return err
	}
	// Make the rename durable; a directory that cannot be synced (some
	// network file systems) is not an error.
	if dir, err := os.Open(filepath.Dir(d.path(to))); err == nil {
		_ = dir.Sync()
		dir.Close()
	}
	return nil
}

// Remove implements Target.
func (d *dirTarget) Remove(_ context.Context, name string) error {
	err := os.Remove(d.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// MkdirAll implements Target.
func (d *dirTarget) MkdirAll(_ context.Context, dir string) error {
	return os.MkdirAll(d.path(dir), 0o755)
}

// Close implements Target.
func (d *dirTarget) Close() error { return nil }
