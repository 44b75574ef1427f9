package wav

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// Reopen opens a recording that was never finished — its writer stopped
// by a crash or power cut — so it can be finished and signed. The sample
// data is taken to be everything after the header up to the end of the
// file (cut to whole frames), unless the header already gives a data size
// followed by metadata chunks (finished but not signed), in which case
// the metadata is dropped to be written again. The returned Writer is
// positioned after the last sample: call Finish, then sign, then Close.
func Reopen(path string, blockSize int) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("wav: reopen: %w", err)
	}
	w, err := reopen(f, blockSize)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("wav: reopen %s: %w", path, err)
	}
	return w, nil
}

func reopen(f *os.File, blockSize int) (*Writer, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var h [HeaderSize]byte
	if _, err := f.ReadAt(h[:], 0); err != nil {
		if err == io.EOF {
			return nil, ErrTruncated
		}
		return nil, err
	}
	le := binary.LittleEndian
	if string(h[0:4]) != "RIFF" || string(h[8:12]) != "WAVE" || string(h[12:16]) != "fmt " || string(h[36:40]) != "data" {
		return nil, ErrNotRIFF
	}
	if le.Uint32(h[16:]) != 16 || le.Uint16(h[20:]) != 1 || le.Uint16(h[34:]) != 16 {
		return nil, ErrUnsupported
	}
	format := Format{SampleRate: int(le.Uint32(h[24:])), Channels: int(le.Uint16(h[22:]))}
	if !format.valid() {
		return nil, fmt.Errorf("%w: %d Hz, %d channels", ErrFormat, format.SampleRate, format.Channels)
	}
	frame := int64(2 * format.Channels)
	data := st.Size() - HeaderSize
	if declared := int64(le.Uint32(h[40:])); declared > 0 && HeaderSize+declared < st.Size() {
		// Metadata after the declared data: the file was finished.
		var id [4]byte
		at := HeaderSize + declared + declared%2
		if _, err := f.ReadAt(id[:], at); err == nil {
			switch string(id[:]) {
			case "LIST", "cue ", "spsg":
				data = declared
			}
		}
	}
	data -= data % frame
	if err := f.Truncate(HeaderSize + data); err != nil {
		return nil, err
	}
	if blockSize <= 0 {
		blockSize = DefaultBlockSize
	}
	blockSize = max(blockSize&^1, minBlockSize)
	return &Writer{f: f, format: format, buf: make([]byte, blockSize), bufOff: HeaderSize + data, data: data}, nil
}
