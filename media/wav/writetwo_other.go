//go:build !linux

package wav

import "os"

// writeTwoAt writes a then b at off, contiguous.
func writeTwoAt(f *os.File, a, b []byte, off int64) error {
	if _, err := f.WriteAt(a, off); err != nil {
		return err
	}
	_, err := f.WriteAt(b, off+int64(len(a)))
	return err
}
