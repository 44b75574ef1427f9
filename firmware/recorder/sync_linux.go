package recorder

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncDir flushes the filesystem holding dir to storage (syncfs(2)).
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}
