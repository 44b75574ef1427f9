package capture

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// ErrLinkMismatch is returned by WriteLink on a classic pcap Writer for a
// link type other than the file's.
var ErrLinkMismatch = errors.New("capture: pcap file has a single link type")

// writerSnapLen is the snapshot length written into classic pcap headers.
const writerSnapLen = 262144

// Writer writes frames to a classic pcap (nanosecond timestamps) or a
// pcapng file: the files Source reads. It is not safe for concurrent use.
type Writer struct {
	link   LinkType
	pcap   *pcapgo.Writer
	ng     *pcapgo.NgWriter
	ngIntf map[LinkType]int // pcapng interface per link type
}

// PcapNgOptions describe a pcapng file's section and first interface;
// zero fields are left out.
type PcapNgOptions struct {
	// Application and Comment go into the section header.
	Application, Comment string
	// Interface and Description name the first interface.
	Interface, Description string
}

// NewPcapWriter writes a classic pcap file header for link to w and
// returns a Writer for its frames.
func NewPcapWriter(w io.Writer, link LinkType) (*Writer, error) {
	pw := pcapgo.NewWriterNanos(w)
	if err := pw.WriteFileHeader(writerSnapLen, layers.LinkType(link)); err != nil {
		return nil, fmt.Errorf("capture: pcap header: %w", err)
	}
	return &Writer{link: link, pcap: pw}, nil
}

// NewPcapNgWriter writes a pcapng section header and a first interface of
// type link to w and returns a Writer for its frames. Call Flush when
// done.
func NewPcapNgWriter(w io.Writer, link LinkType, opts PcapNgOptions) (*Writer, error) {
	intf := pcapgo.DefaultNgInterface
	intf.LinkType = layers.LinkType(link)
	intf.Name, intf.Description = opts.Interface, opts.Description
	if intf.Name == "" {
		intf.Name = "intf0"
	}
	intf.SnapLength = 0
	section := pcapgo.DefaultNgWriterOptions
	if opts.Application != "" {
		section.SectionInfo.Application = opts.Application
	}
	section.SectionInfo.Comment = opts.Comment
	nw, err := pcapgo.NewNgWriterInterface(w, intf, section)
	if err != nil {
		return nil, fmt.Errorf("capture: pcapng header: %w", err)
	}
	return &Writer{link: link, ng: nw, ngIntf: map[LinkType]int{link: 0}}, nil
}

// Write writes one frame of the writer's link type captured at t.
func (w *Writer) Write(t time.Time, frame []byte) error {
	return w.WriteLink(t, w.link, frame)
}

// WriteComment writes one frame of the writer's link type with a comment
// (pcapng; a classic pcap file has no place for it and drops it).
func (w *Writer) WriteComment(t time.Time, frame []byte, comment string) error {
	if w.ng == nil || comment == "" {
		return w.Write(t, frame)
	}
	ci := gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(frame), Length: len(frame)}
	if err := w.ng.WritePacketWithOptions(ci, frame, pcapgo.NgPacketOptions{Comments: []string{comment}}); err != nil {
		return fmt.Errorf("capture: write: %w", err)
	}
	return nil
}

// WriteLink writes one frame of the given link type. A pcapng Writer adds
// an interface for a link type it has not seen yet; a classic pcap Writer
// returns ErrLinkMismatch for any but its own.
func (w *Writer) WriteLink(t time.Time, link LinkType, frame []byte) error {
	ci := gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(frame), Length: len(frame)}
	if w.pcap != nil {
		if link != w.link {
			return fmt.Errorf("%w: %d, not %d", ErrLinkMismatch, link, w.link)
		}
		if err := w.pcap.WritePacket(ci, frame); err != nil {
			return fmt.Errorf("capture: write: %w", err)
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
			return fmt.Errorf("capture: add interface: %w", err)
		}
		w.ngIntf[link] = id
	}
	ci.InterfaceIndex = id
	if err := w.ng.WritePacket(ci, frame); err != nil {
		return fmt.Errorf("capture: write: %w", err)
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
		return fmt.Errorf("capture: flush: %w", err)
	}
	return nil
}
