package capture

import (
	"cmp"
	"fmt"
	"slices"
)

// SkipReason says why the Decoder did not hand a frame on. Every frame given
// to Decode is either handed on (DecoderStats.Packets) or counted under
// exactly one reason in DecoderStats.Reasons.
type SkipReason uint8

// Reasons for not handing a frame on, in groups: each group adds up to one
// summary field of DecoderStats (Malformed, UnknownLink, NonIP, OtherProto);
// the last group adds to none.
const (
	// DecoderStats.Malformed and UnknownLink.
	SkipMalformed   SkipReason = iota // a truncated or inconsistent header, at any depth
	SkipUnknownLink                   // a frame of a link type the decoder does not know

	// DecoderStats.NonIP: link-layer frames carrying neither IPv4 nor IPv6.
	SkipARP            // EtherType 0x0806
	SkipLLDP           // EtherType 0x88cc
	SkipLLC            // an 802.3 length field instead of an EtherType: STP, CDP, other LLC
	Skip8021X          // EtherType 0x888e, port authentication
	SkipLACP           // EtherType 0x8809, slow protocols (LACP, marker, OAM)
	SkipOtherEtherType // any other EtherType; by value in DecoderStats.Values
	SkipLoopbackFamily // a BSD loopback frame of an address family other than IPv4/IPv6
	SkipPPPoEDiscovery // EtherType 0x8863
	SkipPPPProto       // a PPPoE session frame of a PPP protocol other than IPv4/IPv6 (LCP…); by value in Values

	// DecoderStats.OtherProto: IP packets carrying neither UDP nor TCP nor a
	// tunnel the decoder opens, and tunnels it does not open.
	SkipICMP     // IP protocol 1
	SkipICMPv6   // IP protocol 58
	SkipIGMP     // IP protocol 2
	SkipESP      // IP protocol 50, encrypted
	SkipAH       // IPv4 protocol 51 (IPv6 authentication headers are walked)
	SkipOSPF     // IP protocol 89
	SkipSCTP     // IP protocol 132
	SkipVRRP     // IP protocol 112
	SkipNoNext   // IPv6 next header 59: nothing follows
	SkipIPProto  // any other IP protocol; by value in Values
	SkipGREv1    // GRE version 1: PPTP's enhanced GRE carrying PPP
	SkipGREVer   // GRE versions 2 to 7
	SkipGREProto // GRE carrying a protocol the decoder does not open; by value in Values
	SkipERSPAN   // ERSPAN of an unknown version or frame type

	// No summary field: the decoder took the frame but handed nothing on,
	// or not yet.
	SkipTooDeep           // more than MaxEncapDepth encapsulations
	SkipExcluded          // inside a tunnel, dropped by DecoderConfig.Inner
	SkipFragmentHeld      // an IP fragment kept for reassembly, its datagram not complete yet
	SkipFragmentDuplicate // an exact copy of a fragment held already, as SPAN ports deliver
	SkipFragmentOverlap   // a fragment overlapping or contradicting the held ones: all dropped
	SkipFragmentNoRoom    // a fragment whose datagram does not fit the reassembly limits

	// NumSkipReasons is the number of reasons, the length of
	// DecoderStats.Reasons.
	NumSkipReasons
)

// skipGroup is the DecoderStats summary field a reason adds to.
type skipGroup uint8

const (
	groupNone skipGroup = iota
	groupMalformed
	groupUnknownLink
	groupNonIP
	groupOtherProto
)

// skipInfo names each reason and gives its group.
var skipInfo = [NumSkipReasons]struct {
	name  string
	group skipGroup
}{
	SkipMalformed:         {"malformed", groupMalformed},
	SkipUnknownLink:       {"unknown link type", groupUnknownLink},
	SkipARP:               {"ARP", groupNonIP},
	SkipLLDP:              {"LLDP", groupNonIP},
	SkipLLC:               {"STP/LLC", groupNonIP},
	Skip8021X:             {"802.1X", groupNonIP},
	SkipLACP:              {"LACP", groupNonIP},
	SkipOtherEtherType:    {"other EtherType", groupNonIP},
	SkipLoopbackFamily:    {"other loopback address family", groupNonIP},
	SkipPPPoEDiscovery:    {"PPPoE discovery", groupNonIP},
	SkipPPPProto:          {"other PPP protocol", groupNonIP},
	SkipICMP:              {"ICMP", groupOtherProto},
	SkipICMPv6:            {"ICMPv6", groupOtherProto},
	SkipIGMP:              {"IGMP", groupOtherProto},
	SkipESP:               {"ESP", groupOtherProto},
	SkipAH:                {"AH", groupOtherProto},
	SkipOSPF:              {"OSPF", groupOtherProto},
	SkipSCTP:              {"SCTP", groupOtherProto},
	SkipVRRP:              {"VRRP", groupOtherProto},
	SkipNoNext:            {"IPv6 no next header", groupOtherProto},
	SkipIPProto:           {"other IP protocol", groupOtherProto},
	SkipGREv1:             {"GRE version 1 (PPTP)", groupOtherProto},
	SkipGREVer:            {"unknown GRE version", groupOtherProto},
	SkipGREProto:          {"unknown GRE protocol", groupOtherProto},
	SkipERSPAN:            {"unknown ERSPAN version or frame type", groupOtherProto},
	SkipTooDeep:           {"encapsulation nested too deep", groupNone},
	SkipExcluded:          {"excluded by filter (inside tunnel)", groupNone},
	SkipFragmentHeld:      {"IP fragment held for reassembly", groupNone},
	SkipFragmentDuplicate: {"duplicate IP fragment", groupNone},
	SkipFragmentOverlap:   {"overlapping IP fragment", groupNone},
	SkipFragmentNoRoom:    {"IP fragment beyond the reassembly limits", groupNone},
}

// String returns the reason's name as Skipped reports it, e.g. "ARP"; for
// the reasons broken down by value it names the rest beyond the table, e.g.
// "other EtherType".
func (r SkipReason) String() string {
	if r >= NumSkipReasons {
		return fmt.Sprintf("SkipReason(%d)", r)
	}
	return skipInfo[r].name
}

// MaxSkipValues is the size of DecoderStats.Values.
const MaxSkipValues = 16

// SkipValue counts the frames of one value (an EtherType, an IP protocol
// number, a GRE or PPP protocol) of a reason broken down by value:
// SkipOtherEtherType, SkipIPProto, SkipGREProto or SkipPPPProto.
type SkipValue struct {
	Reason SkipReason
	Value  uint16
	Frames uint64 // zero: the entry is unused
}

// name is the entry's name for summaries, e.g. "other EtherType 0x88f7".
func (v SkipValue) name() string {
	switch v.Reason {
	case SkipOtherEtherType:
		return fmt.Sprintf("other EtherType 0x%04x", v.Value)
	case SkipIPProto:
		return fmt.Sprintf("IP protocol %d", v.Value)
	case SkipGREProto:
		return fmt.Sprintf("unknown GRE protocol 0x%04x", v.Value)
	case SkipPPPProto:
		if n, ok := pppNames[v.Value]; ok {
			return "PPP " + n
		}
		return fmt.Sprintf("PPP protocol 0x%04x", v.Value)
	}
	return fmt.Sprintf("%v 0x%04x", v.Reason, v.Value)
}

// pppNames are the PPP control protocols a PPPoE session carries besides IP.
var pppNames = map[uint16]string{
	0xc021: "LCP",
	0xc023: "PAP",
	0xc223: "CHAP",
	0x8021: "IPCP",
	0x8057: "IPV6CP",
	0x80fd: "CCP",
}

// Skip is one line of a summary of the frames not handed on.
type Skip struct {
	Reason string // e.g. "ARP", "IP protocol 115", "encapsulation nested too deep"
	Frames uint64
}

// Skipped returns the reasons frames were not handed on, with their counts,
// most frames first (ties by name); reasons without frames are left out.
// The reasons broken down by value list each value of DecoderStats.Values
// on its own line ("other EtherType 0x88f7") and the frames of values beyond
// the table under the reason's name ("other EtherType"). It allocates; call
// it for summaries, not per frame.
func (s DecoderStats) Skipped() []Skip {
	var out []Skip
	rest := s.Reasons
	for _, v := range s.Values {
		if v.Frames == 0 || v.Reason >= NumSkipReasons {
			continue
		}
		out = append(out, Skip{Reason: v.name(), Frames: v.Frames})
		rest[v.Reason] -= min(rest[v.Reason], v.Frames)
	}
	for r, n := range rest {
		if n > 0 {
			out = append(out, Skip{Reason: SkipReason(r).String(), Frames: n})
		}
	}
	slices.SortFunc(out, func(a, b Skip) int {
		if c := cmp.Compare(b.Frames, a.Frames); c != 0 {
			return c
		}
		return cmp.Compare(a.Reason, b.Reason)
	})
	return out
}

// skip counts the frame under r and reports false, Decode's result.
func (d *Decoder) skip(r SkipReason) bool {
	d.stats.Reasons[r]++
	return false
}

func (d *Decoder) malformed() bool { return d.skip(SkipMalformed) }

// skipValue counts the frame under r and under value v in the value table,
// which keeps the first MaxSkipValues distinct values.
func (d *Decoder) skipValue(r SkipReason, v uint16) bool {
	for i := range d.stats.Values {
		e := &d.stats.Values[i]
		if e.Frames == 0 {
			*e = SkipValue{Reason: r, Value: v, Frames: 1}
			break
		}
		if e.Reason == r && e.Value == v {
			e.Frames++
			break
		}
	}
	return d.skip(r)
}

// skipEtherType counts a link-layer frame of EtherType (or 802.3 length)
// etype that carries no IP.
func (d *Decoder) skipEtherType(etype uint16) bool {
	switch {
	case etype < 0x0600:
		return d.skip(SkipLLC)
	case etype == etherARP:
		return d.skip(SkipARP)
	case etype == etherLLDP:
		return d.skip(SkipLLDP)
	case etype == ether8021X:
		return d.skip(Skip8021X)
	case etype == etherSlow:
		return d.skip(SkipLACP)
	case etype == etherPPPoEDisc:
		return d.skip(SkipPPPoEDiscovery)
	}
	return d.skipValue(SkipOtherEtherType, etype)
}

// skipProto counts an IP packet (or IPv6 header chain) ending in protocol
// proto, which is neither UDP nor TCP nor a tunnel.
func (d *Decoder) skipProto(proto uint8) bool {
	switch proto {
	case protoICMP:
		return d.skip(SkipICMP)
	case protoICMPv6:
		return d.skip(SkipICMPv6)
	case protoIGMP:
		return d.skip(SkipIGMP)
	case protoESP:
		return d.skip(SkipESP)
	case protoAH:
		return d.skip(SkipAH)
	case protoOSPF:
		return d.skip(SkipOSPF)
	case protoSCTP:
		return d.skip(SkipSCTP)
	case protoVRRP:
		return d.skip(SkipVRRP)
	case protoNoNext:
		return d.skip(SkipNoNext)
	}
	return d.skipValue(SkipIPProto, uint16(proto))
}

// sumGroups fills s's summary fields from its reasons.
func (s *DecoderStats) sumGroups() {
	s.Malformed, s.UnknownLink, s.NonIP, s.OtherProto = 0, 0, 0, 0
	for r, n := range s.Reasons {
		switch skipInfo[r].group {
		case groupMalformed:
			s.Malformed += n
		case groupUnknownLink:
			s.UnknownLink += n
		case groupNonIP:
			s.NonIP += n
		case groupOtherProto:
			s.OtherProto += n
		}
	}
}
