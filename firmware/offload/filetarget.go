package offload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// fileSystem is what a file-based target (dir, sftp, smb) needs of its
// backend; names are already in the backend's form (see fileTarget.path).
// Everything else — missing files, resuming at an offset, syncing before
// close — is fileTarget's, once for all three.
type fileSystem interface {
	Stat(name string) (fs.FileInfo, error)
	// OpenWriter opens name for writing, creating it if needed.
	OpenWriter(name string) (writableFile, error)
	Open(name string) (io.ReadCloser, error)
	Remove(name string) error
	// Replace renames from to to, replacing an existing to.
	Replace(from, to string) error
	MkdirAll(dir string) error
}

// writableFile is an open remote file positionWriter can resume in.
type writableFile interface {
	io.WriteCloser
	truncSeeker
	// Sync makes what was written durable on the server (a server that
	// cannot is no error: the backend returns nil).
	Sync() error
}

// truncSeeker is what positionWriter needs of an open file.
type truncSeeker interface {
	Stat() (os.FileInfo, error)
	Truncate(size int64) error
	Seek(offset int64, whence int) (int64, error)
}

// fileTarget is a Target over a fileSystem.
type fileTarget struct {
	// fs returns the backend bound to ctx (for the backends that take one).
	fs func(ctx context.Context) fileSystem
	// path maps a slash-separated name under the target to the backend's.
	path func(name string) string
	// close ends the session (nil: nothing to close).
	close func() error
}

// Stat implements Target: a missing file is no error, anything but a
// regular file is ErrNotFile.
func (t *fileTarget) Stat(ctx context.Context, name string) (int64, bool, error) {
	st, err := t.fs(ctx).Stat(t.path(name))
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

// OpenWrite implements Target: the file is cut to offset (which may not
// be beyond its end) and written from there; Close syncs first.
func (t *fileTarget) OpenWrite(ctx context.Context, name string, offset int64) (io.WriteCloser, error) {
	f, err := t.fs(ctx).OpenWriter(t.path(name))
	if err != nil {
		return nil, err
	}
	if err := positionWriter(f, offset); err != nil {
		f.Close()
		return nil, err
	}
	return syncOnClose{f}, nil
}

// Open implements Target.
func (t *fileTarget) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	return t.fs(ctx).Open(t.path(name))
}

// Rename implements Target, replacing an existing destination.
func (t *fileTarget) Rename(ctx context.Context, from, to string) error {
	return t.fs(ctx).Replace(t.path(from), t.path(to))
}

// Remove implements Target; a missing file is no error.
func (t *fileTarget) Remove(ctx context.Context, name string) error {
	err := t.fs(ctx).Remove(t.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// MkdirAll implements Target.
func (t *fileTarget) MkdirAll(ctx context.Context, dir string) error {
	return t.fs(ctx).MkdirAll(t.path(dir))
}

// Close implements Target.
func (t *fileTarget) Close() error {
	if t.close == nil {
		return nil
	}
	return t.close()
}

// syncOnClose syncs a written file before closing it.
type syncOnClose struct{ writableFile }

// Close syncs and closes the file.
func (f syncOnClose) Close() error {
	serr := f.writableFile.Sync()
	cerr := f.writableFile.Close()
	if serr != nil {
		return serr
	}
	return cerr
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
