package capture

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// DecoderConfig bounds the memory and time a Decoder spends on IP fragment
// reassembly, and filters what it finds inside tunnels. Zero (or negative)
// fields take the defaults.
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
	// Inner is applied to the packets found inside a tunnel (GRE and
	// ERSPAN, IP-in-IP, VXLAN), with the meaning it has for the kernel: the
	// kernel program of a live capture cannot look inside tunnels cheaply,
	// so it passes every tunnel frame whatever its exclusions and port
	// ranges (the tunnel endpoint is typically the appliance's own,
	// excluded, address), and the Decoder applies them to the inner
	// packet instead. Give it the FilterConfig of LiveConfig.Filter.
	// Packets it drops are counted as SkipExcluded. PPPoE is no tunnel
	// here: the kernel filter sees into PPPoE sessions. Entries that
	// FilterConfig.Validate rejects are ignored. The zero value keeps
	// every inner packet.
	Inner FilterConfig
}

// Defaults for DecoderConfig fields left zero.
const (
	DefaultMaxFragmentDatagrams = 1024
	DefaultMaxFragmentBytes     = 4 << 20
	DefaultFragmentTimeout      = 30 * time.Second
)

// MaxEncapDepth is how many encapsulations (GRE, ERSPAN, IP-in-IP, VXLAN,
// PPPoE) the Decoder opens inside one another; a frame nested deeper is
// counted as SkipTooDeep.
const MaxEncapDepth = 4

// DecoderStats counts what a Decoder has seen. Every frame lands in exactly
// one outcome: handed on (Packets) or not, under one reason in Reasons, so
// Packets plus the sum of Reasons is Frames. Malformed, UnknownLink, NonIP
// and OtherProto sum groups of the reasons (see SkipReason); Skipped lists
// the reasons by name.
type DecoderStats struct {
	Frames           uint64 // frames given to Decode
	Packets          uint64 // UDP datagrams and TCP segments handed on
	NonIP            uint64 // link-layer frames carrying neither IPv4 nor IPv6 (ARP, LLDP…)
	OtherProto       uint64 // IP packets carrying neither UDP nor TCP nor a tunnel opened (ICMP, ESP, PPTP…)
	Malformed        uint64 // truncated or inconsistent headers, at any depth
	Fragments        uint64 // IP fragments taken into reassembly
	Reassembled      uint64 // datagrams completed from fragments
	FragmentsDropped uint64 // fragments discarded: timed out, evicted or overlapping
	UnknownLink      uint64 // frames of a link type the decoder does not know

	// Encapsulated counts the frames in which at least one encapsulation
	// was opened, whatever their outcome; Encap counts the encapsulation
	// headers opened by kind.
	Encapsulated uint64
	Encap        EncapStats

	// Reasons counts the frames not handed on, indexed by SkipReason.
	Reasons [NumSkipReasons]uint64
	// Values breaks SkipOtherEtherType, SkipIPProto, SkipGREProto and
	// SkipPPPProto down by value: the first MaxSkipValues distinct values
	// seen, each with its frames (the rest only in Reasons).
	Values [MaxSkipValues]SkipValue

	PendingDatagrams int // datagrams waiting for fragments now
	PendingFragments int // fragments they hold
	PendingBytes     int // reassembly buffer bytes they hold now
}

// EncapStats counts the encapsulation headers a Decoder opened, by kind; a
// frame nested twice counts twice.
type EncapStats struct {
	GRE     uint64 // GRE carrying IPv4 or IPv6
	TEB     uint64 // GRE transparent Ethernet bridging (0x6558)
	ERSPAN1 uint64 // ERSPAN type I: GRE 0x88be without sequence number
	ERSPAN2 uint64 // ERSPAN type II
	ERSPAN3 uint64 // ERSPAN type III
	IPIP    uint64 // IPv4 or IPv6 inside IPv4 or IPv6 (protocols 4 and 41)
	VXLAN   uint64 // VXLAN, UDP port 4789
	PPPoE   uint64 // PPPoE sessions carrying IPv4 or IPv6
}

// Decoder turns captured frames into UDP datagrams and TCP segments. It is
// not safe for concurrent use. Decoding a frame that needs no reassembly,
// encapsulated or not, allocates nothing.
type Decoder struct {
	stats DecoderStats
	frag  reassembler
	inner innerFilter

	// State of the frame being decoded.
	depth  int  // encapsulations opened
	tunnel bool // one of them hides the inner packet from the kernel filter
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
	d := &Decoder{inner: newInnerFilter(cfg.Inner)}
	d.frag.init(cfg, &d.stats)
	return d
}

// Stats returns the decoder's counters.
func (d *Decoder) Stats() DecoderStats {
	s := d.stats
	s.sumGroups()
	s.PendingDatagrams = d.frag.n
	s.PendingFragments = d.frag.held
	s.PendingBytes = d.frag.bytes
	return s
}

// EtherTypes, IP protocol numbers and ports the decoder looks at.
const (
	etherIPv4        = 0x0800
	etherARP         = 0x0806
	etherIPv6        = 0x86dd
	etherVLAN        = 0x8100
	etherQinQ        = 0x88a8
	etherQinQ2       = 0x9100
	etherPPPoEDisc   = 0x8863
	etherPPPoE       = 0x8864
	etherSlow        = 0x8809
	ether8021X       = 0x888e
	etherLLDP        = 0x88cc
	etherHeaderBytes = 14

	protoHopByHop = 0
	protoICMP     = 1
	protoIGMP     = 2
	protoIPv4     = 4 // IP in IP
	protoTCP      = 6
	protoUDP      = 17
	protoIPv6     = 41 // IPv6 in IP
	protoRouting  = 43
	protoFragment = 44
	protoGRE      = 47
	protoESP      = 50
	protoAH       = 51
	protoICMPv6   = 58
	protoNoNext   = 59
	protoDstOpts  = 60
	protoOSPF     = 89
	protoVRRP     = 112
	protoSCTP     = 132

	portVXLAN = 4789
)

// Decode decodes frame f. It returns true when p now holds a UDP datagram or
// a TCP segment, from inside any encapsulations (p's addresses and ports
// are the innermost packet's, its time the frame's); otherwise the frame is
// counted in Stats under a SkipReason and p is untouched. p.Payload points
// into f.Data, or into a decoder buffer for a datagram reassembled from
// fragments, and is valid until the next Decode call.
func (d *Decoder) Decode(f *Frame, p *Packet) bool {
	d.stats.Frames++
	if d.frag.head != nil {
		d.frag.expire(f.Time)
	}
	d.depth, d.tunnel = 0, false
	b := f.Data
	switch f.Link {
	case LinkEthernet:
		return d.ether(f, p, b)
	case LinkSLL:
		if len(b) < 16 {
			return d.malformed()
		}
		return d.etherType(f, p, binary.BigEndian.Uint16(b[14:16]), b[16:])
	case LinkSLL2:
		if len(b) < 20 {
			return d.malformed()
		}
		return d.etherType(f, p, binary.BigEndian.Uint16(b[0:2]), b[20:])
	case LinkRaw, LinkIPv4, LinkIPv6:
		return d.ip(f, p, b)
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
		return d.skip(SkipLoopbackFamily)
	}
	return d.skip(SkipUnknownLink)
}

// ether decodes an Ethernet II frame without FCS.
func (d *Decoder) ether(f *Frame, p *Packet, b []byte) bool {
	if len(b) < etherHeaderBytes {
		return d.malformed()
	}
	return d.etherType(f, p, binary.BigEndian.Uint16(b[12:14]), b[etherHeaderBytes:])
}

// etherType decodes the payload b of EtherType etype, first skipping any
// 802.1Q and 802.1ad tags.
func (d *Decoder) etherType(f *Frame, p *Packet, etype uint16, b []byte) bool {
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
	case etherPPPoE:
		return d.pppoe(f, p, b)
	}
	return d.skipEtherType(etype)
}

// ip decodes an IPv4 or IPv6 packet by the version in its first nibble.
func (d *Decoder) ip(f *Frame, p *Packet, b []byte) bool {
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
		if !reassembles(proto) {
			return d.skipProto(proto)
		}
		key := fragKey{src: src, dst: dst, id: uint32(binary.BigEndian.Uint16(b[4:6])), proto: proto}
		return d.fragment(f, p, key, off, more, b[ihl:])
	}
	return d.ipPayload(f, p, proto, src, dst, b[ihl:])
}

// reassembles reports whether fragments of IP protocol proto are taken into
// reassembly: those of UDP, TCP and the tunnels.
func reassembles(proto uint8) bool {
	switch proto {
	case protoUDP, protoTCP, protoGRE, protoIPv4, protoIPv6:
		return true
	}
	return false
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

// ipv6Next walks IPv6 extension headers from next to the transport or
// tunnel header. Every header is at least 8 bytes long, so the walk is
// bounded by len(b).
func (d *Decoder) ipv6Next(f *Frame, p *Packet, next uint8, src, dst netip.Addr, b []byte, allowFrag bool) bool {
	for {
		switch next {
		case protoUDP, protoTCP, protoGRE, protoIPv4, protoIPv6:
			return d.ipPayload(f, p, next, src, dst, b)
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
			case protoRouting, protoDstOpts, protoAH:
			case protoHopByHop, protoFragment:
				return d.malformed()
			default:
				if !reassembles(fnext) {
					return d.skipProto(fnext)
				}
			}
			return d.fragment(f, p, fragKey{src: src, dst: dst, id: id, proto: fnext}, off, more, b)
		default:
			return d.skipProto(next)
		}
	}
}

// ipPayload decodes the payload b of an IP packet of protocol proto from
// src to dst: UDP, TCP or a tunnel.
func (d *Decoder) ipPayload(f *Frame, p *Packet, proto uint8, src, dst netip.Addr, b []byte) bool {
	switch proto {
	case protoUDP, protoTCP:
		return d.transport(f, p, proto, src, dst, b)
	case protoGRE:
		return d.gre(f, p, b)
	case protoIPv4:
		if !d.enter(&d.stats.Encap.IPIP, true) {
			return false
		}
		return d.ipv4(f, p, b)
	case protoIPv6:
		if !d.enter(&d.stats.Encap.IPIP, true) {
			return false
		}
		return d.ipv6(f, p, b)
	}
	return d.skipProto(proto)
}

// transport decodes a UDP or TCP header and fills p; a UDP datagram to the
// VXLAN port that looks like VXLAN is opened instead.
func (d *Decoder) transport(f *Frame, p *Packet, proto uint8, src, dst netip.Addr, b []byte) bool {
	var (
		seq     uint32
		flags   TCPFlags
		tr      Transport
		payload []byte
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
		payload = b[8:ulen]
		if binary.BigEndian.Uint16(b[2:4]) == portVXLAN && isVXLAN(payload) {
			return d.vxlan(f, p, payload)
		}
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
		payload = b[off:]
	default:
		return d.skipProto(proto)
	}
	sport := binary.BigEndian.Uint16(b[0:2])
	dport := binary.BigEndian.Uint16(b[2:4])
	if d.tunnel && d.inner.active && d.inner.drops(src, dst, sport, dport) {
		return d.skip(SkipExcluded)
	}
	p.Time = f.Time
	p.Src = netip.AddrPortFrom(src, sport)
	p.Dst = netip.AddrPortFrom(dst, dport)
	p.Transport = tr
	p.Seq = seq
	p.Flags = flags
	p.Payload = payload
	d.stats.Packets++
	return true
}
