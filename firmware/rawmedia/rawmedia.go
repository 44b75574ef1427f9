// Package rawmedia keeps the media of a call that is not decoded — a codec
// the recorder does not know (G.729, AMR, iLBC), a fax's UDPTL, encryption
// it cannot read — as a pcapng file next to the recording, with the call's
// SIP messages, so Wireshark (or another recorder) decodes it without
// guessing payload types. The file is signed like a WAV (media/sign).
//
// Datagrams are written as raw IP (LINKTYPE_RAW) with nanosecond
// timestamps, with the capture package's pcapng writer and packet
// encoder. SIP is written as UDP datagrams between the same addresses,
// whatever its transport was (a comment says when it was TCP); SDES keys
// in its SDP are blanked (Redact).
package rawmedia

import (
	"fmt"
	"net/netip"
	"os"
	"time"

	"spanrec/firmware/capture"
	"spanrec/media/wav"
)

// Ext is the extension of raw media files, after the recording's ID.
const Ext = ".rtp.pcapng"

// Writer writes UDP datagrams to a pcapng file.
type Writer struct {
	f   *os.File
	pw  *capture.Writer
	buf []byte // the IP packet being written
	n   int
}

// Create creates path (which must not exist) and writes the section
// header, whose comment says what the file holds, and the interface.
func Create(path, comment, software string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, wav.FileMode)
	if err != nil {
		return nil, fmt.Errorf("raw media: %w", err)
	}
	pw, err := capture.NewPcapNgWriter(f, capture.LinkRaw, capture.PcapNgOptions{
		Application: software,
		Comment:     comment,
		Interface:   "span",
		Description: "media and signalling of one call, as mirrored to the recorder",
	})
	if err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, fmt.Errorf("raw media: %w", err)
	}
	return &Writer{f: f, pw: pw, buf: make([]byte, 0, 2048)}, nil
}

// Datagram appends one UDP datagram from src to dst captured at t. It
// makes no allocation for datagrams up to 2000 bytes.
func (w *Writer) Datagram(t time.Time, src, dst netip.AddrPort, payload []byte) error {
	return w.write(t, src, dst, payload, "")
}

// Signalling appends one SIP message (already redacted), with a comment
// when it came over TCP.
func (w *Writer) Signalling(t time.Time, src, dst netip.AddrPort, msg []byte, tcp bool) error {
	comment := ""
	if tcp {
		comment = "SIP over TCP, reassembled; written as one UDP datagram"
	}
	return w.write(t, src, dst, msg, comment)
}

func (w *Writer) write(t time.Time, src, dst netip.AddrPort, payload []byte, comment string) error {
	b := capture.AppendUDPPacket(w.buf[:0], src, dst, payload)
	if cap(b) <= 4096 {
		w.buf = b // keep a grown buffer, but not a huge one
	}
	if err := w.pw.WriteComment(t, b, comment); err != nil {
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
	if err := w.pw.Flush(); err != nil {
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
	err := w.pw.Flush()
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
	err := w.pw.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}
