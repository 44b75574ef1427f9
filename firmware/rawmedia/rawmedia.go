// Package rawmedia keeps the media of a call that is not decoded — a codec
// the recorder does not know (G.729, AMR, iLBC), a fax's UDPTL, encryption
// it cannot read — as a pcapng file next to the recording, with the call's
// SIP messages, so Wireshark (or another recorder) decodes it without
// guessing payload types. The file is signed like a WAV (media/sign).
//
// Datagrams are written as raw IP (LINKTYPE_RAW) with nanosecond
// timestamps. SIP is written as UDP datagrams between the same addresses,
// whatever its transport was (a comment says when it was TCP); SDES keys
// in its SDP are blanked (Redact).
package rawmedia

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"spanrec/media/wav"
)

// Ext is the extension of raw media files, after the recording's ID.
const Ext = ".rtp.pcapng"

// maxDatagram is the largest UDP payload an IP packet carries.
const maxDatagram = 65535 - 8 - 40

// Writer writes UDP datagrams to a pcapng file.
type Writer struct {
	f   *os.File
	ng  *pcapgo.NgWriter
	buf []byte // IP and UDP headers and the payload of the packet being written
	n   int
}

// Create creates path (which must not exist) and writes the section
// header, whose comment says what the file holds, and the interface.
func Create(path, comment, software string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, wav.FileMode)
	if err != nil {
		return nil, fmt.Errorf("raw media: %w", err)
	}
	intf := pcapgo.DefaultNgInterface
	intf.Name = "span"
	intf.Description = "media and signalling of one call, as mirrored to the recorder"
	intf.LinkType = layers.LinkTypeRaw
	intf.SnapLength = 0
	ng, err := pcapgo.NewNgWriterInterface(f, intf, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		Application: software,
		Comment:     comment,
	}})
	if err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, fmt.Errorf("raw media: %w", err)
	}
	return &Writer{f: f, ng: ng, buf: make([]byte, 0, 2048)}, nil
}

// Datagram appends one UDP datagram from src to dst captured at t. It
// makes no allocation for datagrams up to 2000 bytes.
func (w *Writer) Datagram(t time.Time, src, dst netip.AddrPort, payload []byte) error {
	return w.write(t, src, dst, payload, pcapgo.NgPacketOptions{})
}

// Signalling appends one SIP message (already redacted), with a comment
// when it came over TCP.
func (w *Writer) Signalling(t time.Time, src, dst netip.AddrPort, msg []byte, tcp bool) error {
	var opts pcapgo.NgPacketOptions
	if tcp {
		opts.Comments = []string{"SIP over TCP, reassembled; written as one UDP datagram"}
	}
	return w.write(t, src, dst, msg, opts)
}

func (w *Writer) write(t time.Time, src, dst netip.AddrPort, payload []byte, opts pcapgo.NgPacketOptions) error {
	if len(payload) > maxDatagram {
		payload = payload[:maxDatagram]
	}
	udpLen := 8 + len(payload)
	b := w.buf[:0]
	if src.Addr().Is4() && dst.Addr().Is4() {
		var ip [20]byte
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(20+udpLen))
		ip[8], ip[9] = 64, 17
		s, d := src.Addr().As4(), dst.Addr().As4()
		copy(ip[12:], s[:])
		copy(ip[16:], d[:])
		binary.BigEndian.PutUint16(ip[10:], checksum(ip[:]))
		b = append(b, ip[:]...)
	} else {
		var ip [40]byte
		ip[0] = 0x60
		binary.BigEndian.PutUint16(ip[4:], uint16(udpLen))
		ip[6], ip[7] = 17, 64
		s, d := src.Addr().As16(), dst.Addr().As16()
		copy(ip[8:], s[:])
		copy(ip[24:], d[:])
		b = append(b, ip[:]...)
	}
	b = binary.BigEndian.AppendUint16(b, src.Port())
	b = binary.BigEndian.AppendUint16(b, dst.Port())
	b = binary.BigEndian.AppendUint16(b, uint16(udpLen))
	b = binary.BigEndian.AppendUint16(b, 0) // checksum not computed
	b = append(b, payload...)
	if cap(b) <= 4096 {
		w.buf = b // keep a grown buffer, but not a huge one
	}
	ci := gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(b), Length: len(b)}
	if err := w.ng.WritePacketWithOptions(ci, b, opts); err != nil {
		return fmt.Errorf("raw media: %w", err)
	}
	w.n++
	return nil
}

// Packets returns how many datagrams were written.
func (w *Writer) Packets() int { return w.n }

// Finish flushes what is buffered, so the file is complete and may be
// signed (File). Nothing may be written after it.
func (w *Writer) Finish() error {
	if err := w.ng.Flush(); err != nil {
		return fmt.Errorf("raw media: %w", err)
	}
	return nil
}

// Sync flushes and fsyncs, so a power cut keeps what was written.
func (w *Writer) Sync() error {
	if err := w.Finish(); err != nil {
		return err
	}
	return w.f.Sync()
}

// File returns the underlying file, open for reading and writing.
func (w *Writer) File() *os.File { return w.f }

// Name returns the file's path.
func (w *Writer) Name() string { return w.f.Name() }

// Close flushes, fsyncs and closes the file.
func (w *Writer) Close() error {
	err := w.ng.Flush()
	if serr := w.f.Sync(); err == nil {
		err = serr
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// CloseUnsynced flushes and closes the file without an fsync: the caller
// makes it durable (one syncfs(2) for many files) before it relies on it.
func (w *Writer) CloseUnsynced() error {
	err := w.ng.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
