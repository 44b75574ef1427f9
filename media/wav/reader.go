package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Errors returned by Read and ReadFile.
var (
	// ErrNotRIFF means the input does not start with a RIFF/WAVE header.
	ErrNotRIFF = errors.New("wav: not a RIFF/WAVE file")
	// ErrTruncated means the file ends before the sizes in its headers say.
	ErrTruncated = errors.New("wav: file is truncated")
	// ErrMalformed means a chunk is inconsistent or missing.
	ErrMalformed = errors.New("wav: malformed file")
	// ErrUnsupported means a valid WAV in an encoding other than 16-bit PCM.
	ErrUnsupported = errors.New("wav: unsupported encoding (only 16-bit PCM)")
)

// Chunk locates one top-level RIFF chunk.
type Chunk struct {
	// ID is the four-character chunk ID, e.g. "fmt ", "data", "LIST".
	ID string
	// Offset is the file offset of the chunk header (ID and size).
	Offset int64
	// Size is the chunk body size from the header (without pad byte).
	Size int64
}

// Parsed is the content of a 16-bit PCM WAV file.
type Parsed struct {
	// Format is the sample rate and channel count from the fmt chunk.
	Format
	// Samples holds the interleaved samples of the data chunk.
	Samples []int16
	// Info holds the LIST/INFO tags in file order, values without the NUL.
	Info []InfoTag
	// Cues holds the markers of the "cue " chunk with labels from LIST/adtl.
	Cues []Cue
	// Chunks lists every top-level chunk in file order.
	Chunks []Chunk
}

// Frames returns the number of sample frames (of Samples: 0 after
// ReadMeta, see Data).
func (p *Parsed) Frames() int { return len(p.Samples) / max(p.Channels, 1) }

// Data returns the data chunk's body: its file offset and size in bytes.
func (p *Parsed) Data() (offset, size int64) {
	for _, c := range p.Chunks {
		if c.ID == "data" {
			return c.Offset + 8, c.Size
		}
	}
	return 0, 0
}

// Tag returns the value of the first INFO tag with the given ID.
func (p *Parsed) Tag(id string) (string, bool) {
	for _, t := range p.Info {
		if t.ID == id {
			return t.Value, true
		}
	}
	return "", false
}

// ReadFile reads and parses the WAV file at path.
func ReadFile(path string) (*Parsed, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	p, err := Read(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Read parses a 16-bit PCM WAV file of the given size. Bytes after the end
// announced by the RIFF header are ignored. Chunks other than fmt, data,
// LIST and "cue " (for example the signature chunk) are listed in Chunks only.
func Read(r io.ReaderAt, size int64) (*Parsed, error) { return read(r, size, -1) }

// ReadStart is Read keeping only the first frames sample frames (all of
// them when the file holds fewer): the rest of the audio is not read.
// With frames 0 it is ReadMeta.
func ReadStart(r io.ReaderAt, size int64, frames int64) (*Parsed, error) {
	return read(r, size, max(frames, 0))
}

// ReadMeta parses a WAV file like Read but leaves Samples nil: the data
// chunk is only located (in Chunks), so a file of hours costs a few
// reads. Callers stream the samples from the data chunk's body.
func ReadMeta(r io.ReaderAt, size int64) (*Parsed, error) { return read(r, size, 0) }

// read is Read keeping the first frames sample frames (every one when
// frames < 0, none and Samples nil when 0).
func read(r io.ReaderAt, size int64, frames int64) (*Parsed, error) {
	var hdr [12]byte
	if size < 12 {
		return nil, fmt.Errorf("%w: only %d bytes", ErrNotRIFF, size)
	}
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, fmt.Errorf("wav: read header: %w", err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: starts with %q", ErrNotRIFF, hdr[:])
	}
	end := 8 + int64(binary.LittleEndian.Uint32(hdr[4:]))
	if end > size {
		return nil, fmt.Errorf("%w: RIFF header announces %d bytes, file has %d", ErrTruncated, end, size)
	}
	p := &Parsed{}
	var haveFmt, haveData bool
	var labels map[uint32]string
	var cueIDs []uint32
	for off := int64(12); off < end; {
		if end-off < 8 {
			return nil, fmt.Errorf("%w: %d stray bytes at offset %d", ErrMalformed, end-off, off)
		}
		var ch [8]byte
		if _, err := r.ReadAt(ch[:], off); err != nil {
			return nil, fmt.Errorf("wav: read chunk header at %d: %w", off, err)
		}
		c := Chunk{ID: string(ch[:4]), Offset: off, Size: int64(binary.LittleEndian.Uint32(ch[4:]))}
		body := off + 8
		if body+c.Size > end {
			return nil, fmt.Errorf("%w: chunk %q at %d needs %d bytes, %d left", ErrTruncated, c.ID, off, c.Size, end-body)
		}
		p.Chunks = append(p.Chunks, c)
		switch c.ID {
		case "fmt ":
			if haveFmt {
				return nil, fmt.Errorf("%w: second fmt chunk at %d", ErrMalformed, off)
			}
			haveFmt = true
			if err := p.readFmt(r, body, c.Size); err != nil {
				return nil, err
			}
		case "data":
			if !haveFmt {
				return nil, fmt.Errorf("%w: data chunk before fmt chunk", ErrMalformed)
			}
			if haveData {
				return nil, fmt.Errorf("%w: second data chunk at %d", ErrMalformed, off)
			}
			haveData = true
			if err := p.readData(r, body, c.Size, frames); err != nil {
				return nil, err
			}
		case "LIST", "cue ":
			b := make([]byte, c.Size)
			if _, err := r.ReadAt(b, body); err != nil {
				return nil, fmt.Errorf("wav: read %q chunk: %w", c.ID, err)
			}
			var err error
			if c.ID == "cue " {
				cueIDs, err = p.parseCue(b)
			} else {
				labels, err = p.parseList(b, labels)
			}
			if err != nil {
				return nil, err
			}
		}
		off = body + c.Size + c.Size&1
	}
	if !haveFmt {
		return nil, fmt.Errorf("%w: no fmt chunk", ErrMalformed)
	}
	if !haveData {
		return nil, fmt.Errorf("%w: no data chunk", ErrMalformed)
	}
	for i, id := range cueIDs {
		p.Cues[i].Label = labels[id]
	}
	return p, nil
}

func (p *Parsed) readFmt(r io.ReaderAt, off, size int64) error {
	if size < 16 {
		return fmt.Errorf("%w: fmt chunk of %d bytes", ErrMalformed, size)
	}
	var b [16]byte
	if _, err := r.ReadAt(b[:], off); err != nil {
		return fmt.Errorf("wav: read fmt chunk: %w", err)
	}
	le := binary.LittleEndian
	tag, ch, rate := le.Uint16(b[0:]), int(le.Uint16(b[2:])), int(le.Uint32(b[4:]))
	align, bits := int(le.Uint16(b[12:])), le.Uint16(b[14:])
	if tag != 1 && tag != 0xFFFE { // PCM or WAVE_FORMAT_EXTENSIBLE
		return fmt.Errorf("%w: format tag %#x", ErrUnsupported, tag)
	}
	if bits != 16 {
		return fmt.Errorf("%w: %d bits per sample", ErrUnsupported, bits)
	}
	if ch == 0 || rate == 0 || align != 2*ch {
		return fmt.Errorf("%w: fmt says %d channels, %d Hz, block align %d", ErrMalformed, ch, rate, align)
	}
	p.Format = Format{SampleRate: rate, Channels: ch}
	return nil
}

func (p *Parsed) readData(r io.ReaderAt, off, size, frames int64) error {
	if size%int64(2*p.Channels) != 0 {
		return fmt.Errorf("%w: data size %d is not a whole number of %d-channel frames", ErrMalformed, size, p.Channels)
	}
	if frames >= 0 {
		size = min(size, frames*int64(2*p.Channels))
	}
	if size == 0 && frames == 0 {
		return nil
	}
	p.Samples = make([]int16, size/2)
	buf := make([]byte, min(size, 64<<10))
	for done := int64(0); done < size; {
		b := buf[:min(int64(len(buf)), size-done)]
		if _, err := r.ReadAt(b, off+done); err != nil {
			return fmt.Errorf("wav: read data at %d: %w", off+done, err)
		}
		s := p.Samples[done/2:]
		for i := 0; i+1 < len(b); i += 2 {
			s[i/2] = int16(binary.LittleEndian.Uint16(b[i:]))
		}
		done += int64(len(b))
	}
	return nil
}

// subchunks iterates over the chunks inside a LIST body.
func subchunks(b []byte, fn func(id string, body []byte) error) error {
	for len(b) > 0 {
		if len(b) < 8 {
			return fmt.Errorf("%w: %d stray bytes in LIST", ErrMalformed, len(b))
		}
		id, n := string(b[:4]), int64(binary.LittleEndian.Uint32(b[4:]))
		b = b[8:]
		if n > int64(len(b)) {
			return fmt.Errorf("%w: LIST entry %q needs %d bytes, %d left", ErrMalformed, id, n, len(b))
		}
		if err := fn(id, b[:n]); err != nil {
			return err
		}
		b = b[n:]
		if n%2 == 1 && len(b) > 0 {
			b = b[1:]
		}
	}
	return nil
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func (p *Parsed) parseList(b []byte, labels map[uint32]string) (map[uint32]string, error) {
	if len(b) < 4 {
		return labels, fmt.Errorf("%w: LIST chunk of %d bytes", ErrMalformed, len(b))
	}
	switch string(b[:4]) {
	case "INFO":
		return labels, subchunks(b[4:], func(id string, body []byte) error {
			p.Info = append(p.Info, InfoTag{ID: id, Value: cstring(body)})
			return nil
		})
	case "adtl":
		return labels, subchunks(b[4:], func(id string, body []byte) error {
			if id != "labl" {
				return nil
			}
			if len(body) < 4 {
				return fmt.Errorf("%w: labl entry of %d bytes", ErrMalformed, len(body))
			}
			if labels == nil {
				labels = make(map[uint32]string)
			}
			labels[binary.LittleEndian.Uint32(body)] = cstring(body[4:])
			return nil
		})
	}
	return labels, nil
}

func (p *Parsed) parseCue(b []byte) ([]uint32, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: cue chunk of %d bytes", ErrMalformed, len(b))
	}
	n := int64(binary.LittleEndian.Uint32(b))
	if 4+24*n > int64(len(b)) {
		return nil, fmt.Errorf("%w: cue chunk announces %d points in %d bytes", ErrMalformed, n, len(b))
	}
	if p.Cues != nil {
		return nil, fmt.Errorf("%w: second cue chunk", ErrMalformed)
	}
	p.Cues = make([]Cue, n)
	ids := make([]uint32, n)
	for i := range p.Cues {
		e := b[4+24*i:]
		ids[i] = binary.LittleEndian.Uint32(e)
		p.Cues[i].Frame = binary.LittleEndian.Uint32(e[20:])
	}
	return ids, nil
}
