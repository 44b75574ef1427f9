//go:build !linux

package recorder

import "os"

// syncDir flushes dir itself; other systems have no syncfs, and the
// appliance runs Linux.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
