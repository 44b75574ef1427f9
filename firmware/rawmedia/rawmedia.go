// Package rawrtp keeps the RTP of calls whose codec cannot be decoded: the
// datagrams are written to a pcap file (link type raw IP) next to the
// recording, so the audio can still be recovered with other tools.
package rawrtp

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"time"
)

// linkRaw is LINKTYPE_RAW: each record starts with an IPv4 or IPv6 header.
const linkRaw = 101

// Writer writes UDP datagrams as a classic pcap file.
type Writer struct {
	f   *os.File
	w   *bufio.Writer
	hdr [16 + 48]byte
	n   int
}

// Create creates path (which must not exist) and writes the file header.
func Create(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("raw RTP capture: %w", err)
	}
	w := &Writer{f: f, w: bufio.NewWriterSize(f, 64<<10)}
	var fh [24]byte
	le := binary.LittleEndian
	le.PutUint32(fh[0:], 0xa1b23c4d) // nanosecond timestamps
	le.PutUint16(fh[4:], 2)
	le.PutUint16(fh[6:], 4)
	le.PutUint32(fh[16:], 65535)
	le.PutUint32(fh[20:], linkRaw)
	if _, err := w.w.Write(fh[:]); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// Write appends one UDP datagram from src to dst captured at t.
func (w *Writer) Write(t time.Time, src, dst netip.AddrPort, payload []byte) error {
	ip := w.hdr[16:]
	var ipLen int
	udpLen := 8 + len(payload)
	if src.Addr().Is4() && dst.Addr().Is4() {
		ipLen = 20
		clear(ip[:20])
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(20+udpLen))
		ip[8], ip[9] = 64, 17
		s, d := src.Addr().As4(), dst.Addr().As4()
		copy(ip[12:], s[:])
		copy(ip[16:], d[:])
		binary.BigEndian.PutUint16(ip[10:], checksum(ip[:20]))
	} else {
		ipLen = 40
		clear(ip[:40])
		ip[0] = 0x60
		binary.BigEndian.PutUint16(ip[4:], uint16(udpLen))
		ip[6], ip[7] = 17, 64
		s, d := src.Addr().As16(), dst.Addr().As16()
		copy(ip[8:], s[:])
		copy(ip[24:], d[:])
	}
	udp := ip[ipLen : ipLen+8]
	binary.BigEndian.PutUint16(udp[0:], src.Port())
	binary.BigEndian.PutUint16(udp[2:], dst.Port())
	binary.BigEndian.PutUint16(udp[4:], uint16(udpLen))
	binary.BigEndian.PutUint16(udp[6:], 0) // checksum not computed
	le := binary.LittleEndian
	rec := w.hdr[:16]
	le.PutUint32(rec[0:], uint32(t.Unix()))
	le.PutUint32(rec[4:], uint32(t.Nanosecond()))
	total := ipLen + udpLen
	le.PutUint32(rec[8:], uint32(total))
	le.PutUint32(rec[12:], uint32(total))
	if _, err := w.w.Write(w.hdr[:16+ipLen+8]); err != nil {
		return err
	}
	_, err := w.w.Write(payload)
	w.n++
	return err
}

// Packets returns how many datagrams were written.
func (w *Writer) Packets() int { return w.n }

// Close flushes, fsyncs and closes the file.
func (w *Writer) Close() error {
	err := w.w.Flush()
	if serr := w.f.Sync(); err == nil {
		err = serr
	}
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
