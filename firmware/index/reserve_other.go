//go:build !linux

package index

// reserve is a no-op where fallocate is not available.
func (ix *Index) reserve() {}
