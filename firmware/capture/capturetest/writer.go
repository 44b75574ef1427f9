package capturetest

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"spanrec/firmware/capture"
)

// ErrLinkMismatch is returned by WriteLink on a classic pcap Writer for a
// link type other than the file's.
var ErrLinkMismatch = errors.New("capturetest: pcap file has a single link type")

// snaplen is the snapshot length written into file headers.
const snaplen = 262144

// Writer writes frames to a classic pcap (nanosecond timestamps) or a pcapng
// file.
type Writer struct {
	link   capture.LinkType
	pcap   *pcapgo.Writer
	ng     *pcapgo.NgWriter
	ngIntf map[capture.LinkType]int // pcapng interface per link type
}

// NewPcap writes a classic pcap file header for link to w and returns a
// Writer for its frames. Pass FrameOptions.LinkType() for the frames' link
// type; zero and NullLink both mean capture.LinkNull here.
func NewPcap(w io.Writer, link capture.LinkType) (*Writer, error) {
	link = fileLink(link)
	pw := pcapgo.NewWriterNanos(w)
	if err := pw.WriteFileHeader(snaplen, layers.LinkType(link)); err != nil {
		return nil, fmt.Errorf("capturetest: pcap header: %w", err)
	}
	return &Writer{link: link, pcap: pw}, nil
}

// NewPcapNg writes a pcapng section header and a first interface of type
// link to w and returns a Writer for its frames. Call Flush when done.
// Zero and NullLink both mean capture.LinkNull here.
func NewPcapNg(w io.Writer, link capture.LinkType) (*Writer, error) {
	link = fileLink(link)
	nw, err := pcapgo.NewNgWriter(w, layers.LinkType(link))
	if err != nil {
		return nil, fmt.Errorf("capturetest: pcapng header: %w", err)
	}
	return &Writer{link: link, ng: nw, ngIntf: map[capture.LinkType]int{link: 0}}, nil
}

// fileLink is the file link type for link: NullLink is capture.LinkNull.
// Unlike in FrameOptions, zero is capture.LinkNull too.
func fileLink(link capture.LinkType) capture.LinkType {
	if link == NullLink {
		return capture.LinkNull
	}
	return link
}

// Write writes one frame of the writer's link type captured at t.
func (w *Writer) Write(t time.Time, frame []byte) error {
	return w.WriteLink(t, w.link, frame)
}

// WriteLink writes one frame of the given link type. A pcapng Writer adds an
// interface for a link type it has not seen yet; a classic pcap Writer
// returns ErrLinkMismatch for any but its own.
func (w *Writer) WriteLink(t time.Time, link capture.LinkType, frame []byte) error {
	link = fileLink(link)
	ci := gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(frame), Length: len(frame)}
	if w.pcap != nil {
		if link != w.link {
			return fmt.Errorf("%w: %d, not %d", ErrLinkMismatch, link, w.link)
		}
		if err := w.pcap.WritePacket(ci, frame); err != nil {
			return fmt.Errorf("capturetest: write: %w", err)
		}
		return nil
	}
	id, ok := w.ngIntf[link]
	if !ok {
		var err error
		id, err = w.ng.AddInterface(pcapgo.NgInterface{
			Name:                fmt.Sprintf("intf%d", len(w.ngIntf)),
			LinkType:            layers.LinkType(link),
			TimestampResolution: 9,
		})
		if err != nil {
			return fmt.Errorf("capturetest: add interface: %w", err)
		}
		w.ngIntf[link] = id
	}
	ci.InterfaceIndex = id
	if err := w.ng.WritePacket(ci, frame); err != nil {
		return fmt.Errorf("capturetest: write: %w", err)
	}
	return nil
}

// Flush writes out buffered data (pcapng); a classic pcap Writer writes
// through and has nothing to flush.
func (w *Writer) Flush() error {
	if w.ng == nil {
		return nil
	}
	if err := w.ng.Flush(); err != nil {
		return fmt.Errorf("capturetest: flush: %w", err)
	}
	return nil
}
