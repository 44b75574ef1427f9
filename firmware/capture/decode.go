package capture

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// DecoderConfig bounds the memory and time a Decoder spends on IP fragment
// reassembly. Zero (or negative) fields take the defaults.
type DecoderConfig struct {
	// MaxFragmentDatagrams is how many partly reassembled datagrams are
	// kept; a new one beyond it evicts the oldest. Default 1024.
	MaxFragmentDatagrams int
	// MaxFragmentBytes bounds the reassembly buffers of all pending
	// datagrams together; the oldest are evicted to stay under it.
	// Default 4 MiB.
	MaxFragmentBytes int
	// FragmentTimeout is how long, in capture time, a datagram may wait
	// for its missing fragments. Default 30s.
	FragmentTimeout time.Duration
}

// Defaults for DecoderConfig fields left zero.
const (
	DefaultMaxFragmentDatagrams = 1024
	DefaultMaxFragmentBytes     = 4 << 20
	DefaultFragmentTimeout      = 30 * time.Second
)

// DecoderStats counts what a Decoder has seen. Every frame lands in exactly
// one of Packets, NonIP, OtherProto, Malformed, UnknownLink or Fragments; a
// fragment that completes its datagram is counted in Fragments, Reassembled
// and Packets.
type DecoderStats struct {
	Frames           uint64 // frames given to Decode
	Packets          uint64 // UDP datagrams and TCP segments handed on
	NonIP            uint64 // link-layer frames carrying neither IPv4 nor IPv6 (ARP, LLDP…)
	OtherProto       uint64 // IP packets carrying neither UDP nor TCP (ICMP, ESP…)
	Malformed        uint64 // truncated or inconsistent headers
	Fragments        uint64 // IP fragments taken into reassembly
	Reassembled      uint64 // datagrams completed from fragments
	FragmentsDropped uint64 // fragments discarded: timed out, evicted or overlapping
	UnknownLink      uint64 // frames of a link type the decoder does not know

	PendingDatagrams int // datagrams waiting for fragments now
	PendingFragments int // fragments they hold
	PendingBytes     int // reassembly buffer bytes they hold now
}

// Decoder turns captured frames into UDP datagrams and TCP segments. It is
// not safe for concurrent use. Decoding an unfragmented frame allocates
// nothing.
type Decoder struct {
	stats DecoderStats
	frag  reassembler
}

// NewDecoder returns a Decoder with cfg's limits (defaults for zero fields).
func NewDecoder(cfg DecoderConfig) *Decoder {
	if cfg.MaxFragmentDatagrams <= 0 {
		cfg.MaxFragmentDatagrams = DefaultMaxFragmentDatagrams
	}
	if cfg.MaxFragmentBytes <= 0 {
		cfg.MaxFragmentBytes = DefaultMaxFragmentBytes
	}
	if cfg.FragmentTimeout <= 0 {
		cfg.FragmentTimeout = DefaultFragmentTimeout
	}
	d := &Decoder{}
	d.frag.init(cfg, &d.stats)
	return d
}

// Stats returns the decoder's counters.
func (d *Decoder) Stats() DecoderStats {
	s := d.stats
	s.PendingDatagrams = d.frag.n
	s.PendingFragments = d.frag.held
	s.PendingBytes = d.frag.bytes
	return s
}

// EtherTypes and IP protocol numbers the decoder looks at.
const (
	etherIPv4  = 0x0800
	etherIPv6  = 0x86dd
	etherVLAN  = 0x8100
	etherQinQ  = 0x88a8
	etherQinQ2 = 0x9100

	protoHopByHop = 0
	protoTCP      = 6
	protoUDP      = 17
	protoRouting  = 43
	protoFragment = 44
	protoAH       = 51
	protoDstOpts  = 60
)

// Decode decodes frame f. It returns true when p now holds a UDP datagram or
// a TCP segment; otherwise the frame is counted in Stats and p is untouched.
// p.Payload points into f.Data, or into a decoder buffer for a datagram
// reassembled from fragments, and is valid until the next Decode call.
func (d *Decoder) Decode(f *Frame, p *Packet) bool {
	d.stats.Frames++
	if d.frag.head != nil {
		d.frag.expire(f.Time)
	}
	b := f.Data
	var etype uint16
	switch f.Link {
	case LinkEthernet:
		if len(b) < 14 {
			return d.malformed()
		}
		etype = binary.BigEndian.Uint16(b[12:14])
		b = b[14:]
	case LinkSLL:
		if len(b) < 16 {
			return d.malformed()
		}
		etype = binary.BigEndian.Uint16(b[14:16])
		b = b[16:]
	case LinkSLL2:
		if len(b) < 20 {
			return d.malformed()
		}
		etype = binary.BigEndian.Uint16(b[0:2])
		b = b[20:]
	case LinkRaw, LinkIPv4, LinkIPv6:
		if len(b) < 1 {
			return d.malformed()
		}
		switch b[0] >> 4 {
		case 4:
			return d.ipv4(f, p, b)
		case 6:
			return d.ipv6(f, p, b)
		}
		return d.malformed()
	case LinkNull, LinkLoop:
		if len(b) < 4 {
			return d.malformed()
		}
		fam := binary.BigEndian.Uint32(b[0:4])
		if f.Link == LinkNull && fam > 0xffff {
			// Host byte order of the capturing machine: a little-endian
			// family reads as a large big-endian number.
			fam = binary.LittleEndian.Uint32(b[0:4])
		}
		b = b[4:]
		switch fam {
		case 2:
			return d.ipv4(f, p, b)
		case 24, 28, 30:
			return d.ipv6(f, p, b)
		}
		d.stats.NonIP++
		return false
	default:
		d.stats.UnknownLink++
		return false
	}
	for etype == etherVLAN || etype == etherQinQ || etype == etherQinQ2 {
		if len(b) < 4 {
			return d.malformed()
		}
		etype = binary.BigEndian.Uint16(b[2:4])
		b = b[4:]
	}
	switch etype {
	case etherIPv4:
		return d.ipv4(f, p, b)
	case etherIPv6:
		return d.ipv6(f, p, b)
	}
	d.stats.NonIP++
	return false
}

func (d *Decoder) malformed() bool {
	d.stats.Malformed++
	return false
}

func (d *Decoder) otherProto() bool {
	d.stats.OtherProto++
	return false
}

// ipv4 decodes an IPv4 packet. The header checksum is not checked: SPAN
// copies from NICs with checksum offload often carry a wrong one.
func (d *Decoder) ipv4(f *Frame, p *Packet, b []byte) bool {
	if len(b) < 20 || b[0]>>4 != 4 {
		return d.malformed()
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if total == 0 {
		total = len(b) // segmentation offload on the capturing host
	}
	if ihl < 20 || total < ihl || total > len(b) {
		return d.malformed()
	}
	b = b[:total] // drop Ethernet padding and trailers
	proto := b[9]
	src := netip.AddrFrom4([4]byte(b[12:16]))
	dst := netip.AddrFrom4([4]byte(b[16:20]))
	frag := binary.BigEndian.Uint16(b[6:8])
	more := frag&0x2000 != 0
	off := int(frag&0x1fff) * 8
	if more || off != 0 {
		if proto != protoUDP && proto != protoTCP {
			return d.otherProto()
		}
		key := fragKey{src: src, dst: dst, id: uint32(binary.BigEndian.Uint16(b[4:6])), proto: proto}
		return d.fragment(f, p, key, off, more, b[ihl:])
	}
	return d.transport(f, p, proto, src, dst, b[ihl:])
}

// ipv6 decodes an IPv6 packet.
func (d *Decoder) ipv6(f *Frame, p *Packet, b []byte) bool {
	if len(b) < 40 || b[0]>>4 != 6 {
		return d.malformed()
	}
	plen := int(binary.BigEndian.Uint16(b[4:6]))
	next := b[6]
	src := netip.AddrFrom16([16]byte(b[8:24]))
	dst := netip.AddrFrom16([16]byte(b[24:40]))
	b = b[40:]
	if plen != 0 { // zero: jumbogram or segmentation offload; take the frame
		if plen > len(b) {
			return d.malformed()
		}
		b = b[:plen]
	}
	return d.ipv6Next(f, p, next, src, dst, b, true)
}

// ipv6Next walks IPv6 extension headers from next to the transport header.
// Every header is at least 8 bytes long, so the walk is bounded by len(b).
func (d *Decoder) ipv6Next(f *Frame, p *Packet, next uint8, src, dst netip.Addr, b []byte, allowFrag bool) bool {
	for {
		switch next {
		case protoUDP, protoTCP:
			return d.transport(f, p, next, src, dst, b)
		case protoHopByHop, protoRouting, protoDstOpts, protoAH:
			if len(b) < 8 {
				return d.malformed()
			}
			n := (int(b[1]) + 1) * 8
			if next == protoAH {
				n = (int(b[1]) + 2) * 4
			}
			if n > len(b) {
				return d.malformed()
			}
			next = b[0]
			b = b[n:]
		case protoFragment:
			if len(b) < 8 || !allowFrag {
				return d.malformed()
			}
			fnext := b[0]
			fo := binary.BigEndian.Uint16(b[2:4])
			off := int(fo &^ 7)
			more := fo&1 != 0
			id := binary.BigEndian.Uint32(b[4:8])
			b = b[8:]
			if off == 0 && !more { // atomic fragment (RFC 6946)
				next = fnext
				allowFrag = false
				continue
			}
			switch fnext {
			case protoUDP, protoTCP, protoRouting, protoDstOpts, protoAH:
			default:
				return d.otherProto()
			}
			return d.fragment(f, p, fragKey{src: src, dst: dst, id: id, proto: fnext}, off, more, b)
		default:
			return d.otherProto()
		}
	}
}

// transport decodes a UDP or TCP header and fills p.
func (d *Decoder) transport(f *Frame, p *Packet, proto uint8, src, dst netip.Addr, b []byte) bool {
	var (
		seq   uint32
		flags TCPFlags
		tr    Transport
	)
	switch proto {
	case protoUDP:
		if len(b) < 8 {
			return d.malformed()
		}
		ulen := int(binary.BigEndian.Uint16(b[4:6]))
		if ulen < 8 || ulen > len(b) {
			return d.malformed()
		}
		tr = UDP
		p.Payload = b[8:ulen]
	case protoTCP:
		if len(b) < 20 {
			return d.malformed()
		}
		off := int(b[12]>>4) * 4
		if off < 20 || off > len(b) {
			return d.malformed()
		}
		tr = TCP
		seq = binary.BigEndian.Uint32(b[4:8])
		flags = TCPFlags(b[13])
		p.Payload = b[off:]
	default:
		return d.otherProto()
	}
	p.Time = f.Time
	p.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(b[0:2]))
	p.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:4]))
	p.Transport = tr
	p.Seq = seq
	p.Flags = flags
	d.stats.Packets++
	return true
}
