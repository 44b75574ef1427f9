package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
)

// Errors returned by sources.
var (
	// ErrCorrupt marks a capture file that cannot be read any further: a
	// truncated last record, a corrupt record header, a record longer than
	// MaxRecordLength. The frames before it were delivered; the caller
	// counts the error and stops reading.
	ErrCorrupt = errors.New("capture: corrupt capture file")
	// ErrUnknownFormat is returned by OpenFile and NewReader for input that
	// is neither a pcap nor a pcapng file.
	ErrUnknownFormat = errors.New("capture: not a pcap or pcapng file")
	// ErrClosed is returned by ReadFrame after Close.
	ErrClosed = errors.New("capture: source closed")
)

// MaxRecordLength is the longest record a FileSource accepts (libpcap's
// MAXIMUM_SNAPLEN). A longer record is treated as corruption, so a bogus
// length in a damaged file cannot make the reader allocate more.
const MaxRecordLength = 256 << 10

// Source delivers captured frames one at a time. ReadFrame fills f and
// returns io.EOF after the last frame; f.Data is valid only until the next
// ReadFrame call.
type Source interface {
	ReadFrame(f *Frame) error
	Close() error
}

// File magics, as read little-endian from the first four bytes.
const (
	magicPcapMicro     = 0xa1b2c3d4
	magicPcapMicroSwap = 0xd4c3b2a1
	magicPcapNano      = 0xa1b23c4d
	magicPcapNanoSwap  = 0x4d3cb2a1
	magicPcapNg        = 0x0a0d0d0a
)

// countReader counts the bytes read through it and remembers the first
// error other than io.EOF, so a FileSource can tell a clean end of file from
// a truncated record and a read failure from corrupt content.
type countReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// FileSource reads frames from a classic pcap (microsecond or nanosecond
// timestamps, either byte order) or a pcapng file, optionally
// gzip-compressed. It implements Source. A read error is sticky: once
// ReadFrame has failed it keeps returning the same error.
type FileSource struct {
	file   *os.File      // closed by Close; nil for NewReader sources
	raw    *countReader  // the caller's bytes: I/O errors
	plain  *countReader  // decompressed bytes: position for truncation checks
	br     *bufio.Reader // shared with the pcapgo reader
	pcap   *pcapgo.Reader
	ng     *pcapgo.NgReader
	frames int   // frames delivered
	endPos int64 // plain-stream position after the last full record
	err    error
}

// OpenFile opens a pcap or pcapng capture file, recognised by its magic.
func OpenFile(path string) (*FileSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capture: open: %w", err)
	}
	s, err := NewReader(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("capture: %s: %w", path, err)
	}
	s.file = f
	return s, nil
}

// NewReader reads a pcap or pcapng capture from r, recognised by its magic.
// Close on the returned source does not close r.
func NewReader(r io.Reader) (*FileSource, error) {
	s := &FileSource{raw: &countReader{r: r}}
	in := io.Reader(bufio.NewReader(s.raw))
	if head, _ := in.(*bufio.Reader).Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(in)
		if err != nil {
			return nil, s.wrapErr(err)
		}
		in = gz
	}
	s.plain = &countReader{r: in}
	// pcapgo wraps its input in bufio.NewReader, which keeps a
	// *bufio.Reader of at least the default size as it is; the source
	// therefore shares this one and knows how much pcapgo consumed.
	s.br = bufio.NewReaderSize(s.plain, 64<<10)
	head, err := s.br.Peek(4)
	if err != nil {
		if err == io.EOF && len(head) == 0 {
			return nil, fmt.Errorf("%w: empty input", ErrUnknownFormat)
		}
		return nil, s.wrapErr(err)
	}
	switch magic := binary.LittleEndian.Uint32(head); magic {
	case magicPcapMicro, magicPcapMicroSwap, magicPcapNano, magicPcapNanoSwap:
		pr, err := pcapgo.NewReader(s.br)
		if err != nil {
			return nil, s.wrapErr(err)
		}
		if pr.Snaplen() > MaxRecordLength {
			pr.SetSnaplen(MaxRecordLength)
		}
		s.pcap = pr
	case magicPcapNg:
		nr, err := pcapgo.NewNgReader(s.br, pcapgo.NgReaderOptions{
			WantMixedLinkType:  true,
			SkipUnknownVersion: true,
		})
		if err != nil {
			return nil, s.wrapErr(err)
		}
		s.ng = nr
	default:
		return nil, fmt.Errorf("%w: magic %08x", ErrUnknownFormat, magic)
	}
	s.endPos = s.pos()
	return s, nil
}

// pos is how many plain bytes pcapgo has consumed.
func (s *FileSource) pos() int64 { return s.plain.n - int64(s.br.Buffered()) }

// wrapErr turns a reader failure into the source's error: the caller's I/O
// error as it is, anything else as corruption at the current frame.
func (s *FileSource) wrapErr(err error) error {
	if s.raw.err != nil && !isGzipFormatErr(s.raw.err) {
		return fmt.Errorf("capture: frame %d: read: %w", s.frames+1, s.raw.err)
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if s.pcap == nil && s.ng == nil {
		return fmt.Errorf("%w: file header: %w", ErrCorrupt, err)
	}
	return fmt.Errorf("%w: frame %d: %w", ErrCorrupt, s.frames+1, err)
}

func isGzipFormatErr(err error) bool {
	return errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum)
}

// ReadFrame reads the next frame into f. f.Data aliases the reader's buffer
// and is overwritten by the next call. It returns io.EOF at the end of the
// capture and an error wrapping ErrCorrupt, with the frame number, for a
// damaged file.
func (s *FileSource) ReadFrame(f *Frame) error {
	if s.err != nil {
		return s.err
	}
	var (
		data []byte
		ci   gopacket.CaptureInfo
		err  error
		link LinkType
	)
	if s.pcap != nil {
		data, ci, err = s.pcap.ZeroCopyReadPacketData()
		link = LinkType(s.pcap.LinkType())
		if err == io.EOF && s.pos() != s.endPos {
			err = io.ErrUnexpectedEOF // a record header without its data
		}
	} else {
		data, ci, err = s.ng.ZeroCopyReadPacketData()
		if err == nil {
			link, err = s.ngLinkType(ci.InterfaceIndex)
		}
	}
	if err == nil && len(data) > MaxRecordLength {
		err = fmt.Errorf("record of %d bytes exceeds %d", len(data), MaxRecordLength)
	}
	if err != nil {
		if err == io.EOF && s.raw.err == nil {
			s.err = io.EOF
		} else {
			s.err = s.wrapErr(err)
		}
		return s.err
	}
	s.frames++
	s.endPos = s.pos()
	f.Time = ci.Timestamp
	f.Link = link
	f.Data = data
	return nil
}

func (s *FileSource) ngLinkType(i int) (LinkType, error) {
	intf, err := s.ng.Interface(i)
	if err != nil {
		return 0, err
	}
	return LinkType(intf.LinkType), nil
}

// Frames is the number of frames read so far.
func (s *FileSource) Frames() int { return s.frames }

// Close releases the file opened by OpenFile. Later ReadFrame calls return
// ErrClosed.
func (s *FileSource) Close() error {
	s.err = ErrClosed
	if s.file == nil {
		return nil
	}
	f := s.file
	s.file = nil
	if err := f.Close(); err != nil {
		return fmt.Errorf("capture: close: %w", err)
	}
	return nil
}
