package recorder

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"spanrec/firmware/datadir"
)

// DirMode is the mode of DATA/recordings and its YYYY/MM/DD folders:
// recordings are for the appliance and its group, never for every local
// user. The files are created 0640 (wav.FileMode, by media/wav and
// firmware/rawmedia).
const DirMode fs.FileMode = 0o750

// mkdirRecordings creates the folder of a recording file.
func mkdirRecordings(file string) error {
	return os.MkdirAll(filepath.Dir(file), DirMode)
}

// TightenPermissions takes group write and every permission of others
// away from the data directory's recordings, its folders and files: what older versions
// wrote (0755 folders, 0644 files) becomes 0750 and 0640. It returns the
// first error met, after trying every entry.
func TightenPermissions(dataDir string) error {
	var first error
	err := filepath.WalkDir(datadir.Layout(dataDir).Recordings(), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			first = cmp(first, err)
			return nil
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			first = cmp(first, err)
			return nil
		}
		if perm := info.Mode().Perm(); perm&0o027 != 0 {
			first = cmp(first, os.Chmod(p, perm&^0o027))
		}
		return nil
	})
	return cmp(first, err)
}

// cmp returns the first non-nil error.
func cmp(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
