package index

import (
	"os"

	"golang.org/x/sys/unix"
)

// reserve allocates the index file's holes and reserveBytes past its end
// (without changing its size), so the file can grow into them when the
// filesystem is otherwise full. Best effort: filesystems without fallocate
// simply get no reserve.
func (ix *Index) reserve() {
	f, err := os.OpenFile(ix.db.Path(), os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return
	}
	_ = unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, st.Size()+reserveBytes)
}
