package rawmedia

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// ErrNotRaw means a file is not a raw media file this package wrote.
var ErrNotRaw = errors.New("raw media: not a little-endian pcapng file")

// Span is what Repair found in a file: its packets and when the first and
// the last were captured.
type Span struct {
	Packets     int
	First, Last time.Time
	Cut         int64 // bytes cut off the end (a block the crash interrupted)
}

// Repair makes a raw media file interrupted by a crash or power cut whole
// again: it cuts the file after its last complete block, so it can be
// signed. It is for unsigned files only (a signed one ends in a complete
// block anyway, and must not change).
func Repair(path string) (Span, error) {
	var sp Span
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return sp, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return sp, err
	}
	size := st.Size()
	var h [28]byte
	if _, err := f.ReadAt(h[:12], 0); err != nil || binary.LittleEndian.Uint32(h[:]) != 0x0a0d0d0a || binary.LittleEndian.Uint32(h[8:]) != 0x1a2b3c4d {
		return sp, fmt.Errorf("%s: %w", path, ErrNotRaw)
	}
	end := int64(0)
	for off := int64(0); off+12 <= size; {
		n, err := f.ReadAt(h[:], off)
		if n < 8 && err != nil {
			break
		}
		typ, l := binary.LittleEndian.Uint32(h[:]), int64(binary.LittleEndian.Uint32(h[4:]))
		if l < 12 || l%4 != 0 || off+l > size {
			break
		}
		var tail [4]byte
		if _, err := f.ReadAt(tail[:], off+l-4); err != nil && !errors.Is(err, io.EOF) || int64(binary.LittleEndian.Uint32(tail[:])) != l {
			break
		}
		if typ == 6 && n >= 20 { // enhanced packet block: ns timestamps
			ts := int64(binary.LittleEndian.Uint32(h[12:]))<<32 | int64(binary.LittleEndian.Uint32(h[16:]))
			t := time.Unix(0, ts).UTC()
			if sp.Packets == 0 {
				sp.First = t
			}
			sp.Last = t
			sp.Packets++
		}
		off += l
		end = off
	}
	if end == 0 {
		return sp, fmt.Errorf("%s: %w (no complete section header)", path, ErrNotRaw)
	}
	if end < size {
		sp.Cut = size - end
		if err := f.Truncate(end); err != nil {
			return sp, err
		}
	}
	return sp, f.Sync()
}
