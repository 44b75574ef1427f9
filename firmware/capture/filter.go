package capture

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// FilterConfig selects the frames a live capture takes from the kernel.
// The zero value keeps every IPv4 and IPv6 UDP datagram and TCP segment, on
// any port (SIP is recognised by content, RTP uses dynamic ports), together
// with the IP fragments of UDP and TCP datagrams (every IPv4 fragment
// carries the protocol number, every IPv6 fragment header the next header),
// in untagged, 802.1Q and QinQ (802.1ad or 0x9100, up to three tags) frames
// and in PPPoE sessions, past up to four IPv6 extension headers (hop-by-hop,
// routing, destination options, authentication). It also keeps every
// tunnel frame the Decoder opens: GRE and ERSPAN (IP protocol 47), IP in IP
// (protocols 4 and 41), their fragments, and UDP datagrams to the VXLAN
// port 4789.
// Everything else (ARP, ICMP, ICMPv6, LLDP, STP, PPPoE discovery and LCP…)
// is dropped in the kernel.
//
// The exclusions and port ranges apply to the packet the kernel sees: the
// outer one of a tunnel frame, which the kernel cannot look inside cheaply.
// Tunnel frames are therefore kept whatever the exclusions and port ranges
// (the tunnel endpoint is typically the appliance's own, excluded,
// address); give the same FilterConfig to DecoderConfig.Inner so that the
// Decoder applies it to the inner packets. A PPPoE session is no tunnel
// here: the exclusions and ranges apply to the IP packet inside it.
// Non-first fragments of a VXLAN datagram carry no port and are kept or
// excluded like any UDP fragment, by their outer addresses.
type FilterConfig struct {
	// ExcludeHosts drops every packet from or to one of these addresses
	// (an IPv4-mapped IPv6 address counts as IPv4), e.g. the appliance's
	// own management address or a busy backup server.
	ExcludeHosts []netip.Addr
	// ExcludeNets drops every packet from or to an address in one of
	// these networks.
	ExcludeNets []netip.Prefix
	// Ports, when not empty, keeps only datagrams and segments whose
	// source or destination port lies in one of the ranges. IP fragments
	// without the transport header (non-first fragments) are kept whatever
	// the ranges. Beware: RTP uses the media ports the SDP offers, so list
	// the RTP range of the PBX as well as the SIP ports.
	Ports []PortRange
}

// PortRange is an inclusive range of transport ports.
type PortRange struct {
	First, Last uint16
}

// Limits of a FilterConfig, which keep the compiled program well under the
// kernel's 4096 instructions.
const (
	MaxFilterNets  = 64
	MaxFilterPorts = 64
)

// Validate reports, wrapping ErrFilter, the first problem that makes
// CompileFilter reject fc: an invalid address or network, an IPv4-mapped
// network shorter than /96, an empty port range, or more entries than
// MaxFilterNets or MaxFilterPorts.
func (fc FilterConfig) Validate() error {
	_, _, err := fc.prefixes()
	return err
}

// prefixes returns fc's excluded hosts and networks as masked prefixes of
// IPv4 (IPv4-mapped ones unmapped) and of IPv6 addresses, without zones,
// leaving out invalid entries; err reports the first problem Validate
// reports.
func (fc FilterConfig) prefixes() (v4, v6 []netip.Prefix, err error) {
	fail := func(e error) {
		if err == nil {
			err = e
		}
	}
	add := func(p netip.Prefix) {
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	for _, a := range fc.ExcludeHosts {
		if !a.IsValid() {
			fail(fmt.Errorf("%w: invalid excluded host", ErrFilter))
			continue
		}
		a = a.Unmap().WithZone("")
		add(netip.PrefixFrom(a, a.BitLen()))
	}
	for _, p := range fc.ExcludeNets {
		if !p.IsValid() {
			fail(fmt.Errorf("%w: invalid excluded network %v", ErrFilter, p))
			continue
		}
		a := p.Addr()
		bits := p.Bits()
		if a.Is4In6() {
			if bits < 96 {
				fail(fmt.Errorf("%w: IPv4-mapped network %v shorter than /96", ErrFilter, p))
				continue
			}
			a, bits = a.Unmap(), bits-96
		}
		add(netip.PrefixFrom(a.WithZone(""), bits).Masked())
	}
	if n := len(fc.ExcludeHosts) + len(fc.ExcludeNets); n > MaxFilterNets {
		fail(fmt.Errorf("%w: %d excluded hosts and networks, at most %d", ErrFilter, n, MaxFilterNets))
	}
	if len(fc.Ports) > MaxFilterPorts {
		fail(fmt.Errorf("%w: %d port ranges, at most %d", ErrFilter, len(fc.Ports), MaxFilterPorts))
	}
	for _, r := range fc.Ports {
		if r.First > r.Last {
			fail(fmt.Errorf("%w: port range %d-%d", ErrFilter, r.First, r.Last))
		}
	}
	return v4, v6, err
}

// innerFilter applies a FilterConfig in user space, to the packets inside
// tunnels.
type innerFilter struct {
	active bool
	v4     []net4 // IPv4 prefixes, as masks: cheaper than netip.Prefix.Contains
	v6     []netip.Prefix
	ports  []PortRange
}

// net4 is an IPv4 prefix: an address a matches when a&mask == addr.
type net4 struct{ addr, mask uint32 }

func newInnerFilter(fc FilterConfig) innerFilter {
	v4, v6, _ := fc.prefixes()
	m := innerFilter{v6: v6}
	for _, p := range v4 {
		mask := ^uint32(0) << (32 - p.Bits())
		if p.Bits() == 0 {
			mask = 0
		}
		a := p.Addr().As4()
		m.v4 = append(m.v4, net4{addr: binary.BigEndian.Uint32(a[:]) & mask, mask: mask})
	}
	for _, r := range fc.Ports {
		if r.First <= r.Last {
			m.ports = append(m.ports, r)
		}
	}
	m.active = len(m.v4)+len(m.v6)+len(m.ports) > 0
	return m
}

// drops reports whether the filter drops a packet from src:sport to
// dst:dport, as the kernel program would: an IPv4 header's addresses are
// matched against the IPv4 exclusions, an IPv6 header's against the IPv6
// ones.
func (m *innerFilter) drops(src, dst netip.Addr, sport, dport uint16) bool {
	if src.Is4() {
		s, d := src.As4(), dst.As4()
		s4, d4 := binary.BigEndian.Uint32(s[:]), binary.BigEndian.Uint32(d[:])
		for _, n := range m.v4 {
			if s4&n.mask == n.addr || d4&n.mask == n.addr {
				return true
			}
		}
	} else {
		for _, n := range m.v6 {
			if n.Contains(src) || n.Contains(dst) {
				return true
			}
		}
	}
	if len(m.ports) == 0 {
		return false
	}
	for _, r := range m.ports {
		if sport >= r.First && sport <= r.Last || dport >= r.First && dport <= r.Last {
			return false
		}
	}
	return true
}
