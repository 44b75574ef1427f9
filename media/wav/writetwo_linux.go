package wav

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// writeTwoAt writes a then b at off, contiguous, in one pwritev(2) (two
// writes would be two system calls per flush of every call).
func writeTwoAt(f *os.File, a, b []byte, off int64) error {
	switch {
	case len(a) == 0:
		_, err := f.WriteAt(b, off)
		return err
	case len(b) == 0:
		_, err := f.WriteAt(a, off)
		return err
	}
	fd := int(f.Fd()) // a regular file: always blocking
	iov := [2][]byte{a, b}
	rest := iov[:]
	for len(rest) > 0 {
		n, err := unix.Pwritev(fd, rest, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "pwritev", Path: f.Name(), Err: err}
		}
		if n == 0 {
			return io.ErrShortWrite
		}
		off += int64(n)
		for n > 0 {
			k := min(n, len(rest[0]))
			rest[0], n = rest[0][k:], n-k
			if len(rest[0]) == 0 {
				rest = rest[1:]
			}
		}
	}
	return nil
}
