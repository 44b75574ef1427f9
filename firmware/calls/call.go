package calls

import (
	"net/netip"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/sipflow"
	"spanrec/media/rtp"
	"spanrec/media/sdp"
)

// Side is one party of a call.
type Side uint8

// The two parties of a call: the one that sent the initial INVITE, and the
// one that answered it.
const (
	Caller Side = 0
	Callee Side = 1
)

// Other returns the opposite side.
func (s Side) Other() Side { return 1 - s }

func (s Side) String() string {
	if s == Caller {
		return "caller"
	}
	return "callee"
}

// State is where a call is in its life.
type State uint8

// Call states.
const (
	Setup    State = iota // INVITE seen, no answer yet
	Ringing               // a provisional answer (180/183) seen
	Answered              // 200 OK to the INVITE seen: being recorded
	Ended
)

func (s State) String() string {
	return [...]string{"setup", "ringing", "answered", "ended"}[s]
}

// Stream is what one side of a call sends and receives: the addresses and
// formats its latest SDP gave, and where its media is really seen coming
// from.
type Stream struct {
	// Addr is where the side's latest SDP asked to receive audio; invalid
	// when it gave none (or put the call on hold with 0.0.0.0).
	Addr netip.AddrPort
	// Formats are the payload formats its latest SDP offered to receive.
	Formats []sdp.Format
	// Hold is set while its latest SDP holds the call (sendonly, inactive).
	Hold bool
	// Fax is set once its latest SDP switched to T.38 (m=image udptl t38);
	// FaxAddr is where it receives the UDPTL.
	Fax     bool
	FaxAddr netip.AddrPort
	// Source is where its media is seen coming from (latched from the first
	// packet after the answer; a source that matches its SDP better takes
	// over). Packets from any other source are foreign.
	Source netip.AddrPort
	// SSRC is the RTP SSRC of its stream.
	SSRC uint32
	// Proto is the transport of its latest audio m-line (RTP/AVP,
	// RTP/SAVP, UDP/TLS/RTP/SAVPF, ...) and Security what it says of the
	// encryption of what the side sends: its SDES keys, a DTLS fingerprint,
	// ZRTP. KeyGen counts changes of Security (a re-INVITE with new keys).
	Proto    string
	Security sdp.Security
	KeyGen   int
	// ZRTP is set once the side sent ZRTP key agreement: its media is
	// encrypted with keys that never cross the wire.
	ZRTP bool
	// DTLS is set once DTLS was seen on the side's media address.
	DTLS bool

	srcRank   uint8            // how well Source matches the side's SDP (rank)
	addrs     []netip.AddrPort // addresses registered for the side in the table
	ssrcSet   bool
	prevSSRC  uint32    // the SSRC before the last change
	ssrcAt    time.Time // when SSRC took over from prevSSRC
	bannedSet bool
	banned    uint32 // an SSRC that interleaved with the stream's own
}

// Foreign is a media source kept out of a call's recording: it sent to one
// of the call's addresses but is not the side's latched source (injected
// audio, a stray stream).
type Foreign struct {
	Addr    netip.AddrPort
	To      Side // the side whose address it sent to
	Packets uint64
}

// maxForeign bounds the foreign sources remembered per call.
const maxForeign = 8

// Call is one SIP dialog as seen on the wire: an initial INVITE, its answer
// and what follows. Fields are read by the Handler; only the Tracker changes
// them.
type Call struct {
	ID     string // index identifier, time-sortable
	CallID string
	Caller sipflow.Party
	Callee sipflow.Party
	// Dialed is the user part of the To header of the initial INVITE: the
	// number the caller dialled (a proxy rewrites the Request-URI to the
	// contact it routes to).
	Dialed string
	// RequestURI is the Request-URI of the initial INVITE as seen first.
	RequestURI string
	Transport  capture.Transport
	Signal     [2]netip.AddrPort // where each side's SIP was first seen from

	Start, Answer, End time.Time
	State              State
	Status             int    // final status of the INVITE (200, 486, 487, ...)
	StatusText         string // its reason phrase
	EndReason          EndReason
	Cancelled          bool
	Flags              []string // notes for the index: answer-inferred-from-ack, forked, fax, ...

	// Media is each side's stream.
	Media [2]Stream

	LastMedia    time.Time
	LastSignal   time.Time // the last in-dialog request after the answer
	Resumed      time.Time // when the call last came off hold
	Packets      [2]uint64 // media packets each side sent while answered
	EarlyPackets uint64    // media packets before the answer (not recorded)
	// Foreign are the sources kept out of the recording.
	Foreign []Foreign
	// Legs are the IDs of other dialogs that share this call's Call-ID (an
	// SBC or B2BUA hop that kept it, a parallel fork through a B2BUA).
	Legs []string

	// Invite is the initial INVITE as captured: its headers classify the
	// call (sipflow.HeaderLookup). Bytes, not the parsed message: the
	// parse, 2.2 KB of heap more per call in progress, is redone once, when
	// the policy asks.
	Invite []byte
	// SIP are the dialog's messages as captured (up to a bound), for its
	// raw media file; SIPDropped counts those past the bound.
	SIP        []Signalling
	SIPDropped int
	sipBytes   int  // kept signalling, counted as keptSize does
	mediaIdle  bool // MediaIdle was called; media since resets it

	// Opaque is set for a call signalled over TLS: only its media is seen
	// (no SIP, no SDP, no parties), and it is kept raw.
	Opaque bool

	// Rec belongs to the Handler: its recording of this call, set at
	// Answered, which takes the call's media packets (nil: they are
	// dropped).
	Rec MediaSink

	callerTag, calleeTag string
	oldTags              []string // caller tags replaced by a retry with a new tag
	tags                 []string // other To tags seen (forks, failure answers)
	hosts                []netip.Addr
	inviteCSeq           uint32
	finalAt              time.Time // a failure answer or CANCEL: ends after a grace period
	early                map[string][]byte
	sessionExpires       time.Duration
}

// Signalling is one SIP message of a call as captured.
type Signalling struct {
	Time      time.Time
	Src, Dst  netip.AddrPort
	Transport capture.Transport
	Raw       []byte
}

// Bounds of the signalling kept per call: a long call's re-INVITEs and
// session refreshes fit; a flood of in-dialog requests does not grow it.
// (bytes: Config.MaxCallSIPBytes).
const maxSIPMessages = 256

// OnHold reports whether either side has put the call on hold.
func (c *Call) OnHold() bool { return c.Media[Caller].Hold || c.Media[Callee].Hold }

// Format returns the payload format a packet sent by side carries for
// payload type pt: the receiving side's SDP declares it; the sender's is the
// fallback.
func (c *Call) Format(sender Side, pt uint8) (sdp.Format, bool) {
	for _, side := range [2]Side{sender.Other(), sender} {
		for _, f := range c.Media[side].Formats {
			if f.PT == pt {
				return f, true
			}
		}
	}
	return sdp.Format{}, false
}

// Codec names the first audio codec the callee's (else the caller's) SDP
// offered, for calls whose audio was never decoded.
func (c *Call) Codec() string {
	for _, side := range [2]Side{Callee, Caller} {
		for _, f := range c.Media[side].Formats {
			if f.Encoding != "TELEPHONE-EVENT" && f.Encoding != "CN" {
				return f.Encoding
			}
		}
	}
	return ""
}

// HasFlag reports whether the call carries flag f.
func (c *Call) HasFlag(f string) bool {
	for _, have := range c.Flags {
		if have == f {
			return true
		}
	}
	return false
}

func (c *Call) flag(f string) {
	if !c.HasFlag(f) {
		c.Flags = append(c.Flags, f)
	}
}

// noteForeign counts a packet from a foreign source sent to side to.
func (c *Call) noteForeign(addr netip.AddrPort, to Side) {
	for i := range c.Foreign {
		if c.Foreign[i].Addr == addr && c.Foreign[i].To == to {
			c.Foreign[i].Packets++
			return
		}
	}
	if len(c.Foreign) < maxForeign {
		c.Foreign = append(c.Foreign, Foreign{Addr: addr, To: to, Packets: 1})
		c.flag("foreign-media")
	}
}

// knownHost reports whether a took part in the call's signalling.
func (c *Call) knownHost(a netip.Addr) bool {
	a = a.Unmap()
	for _, h := range c.hosts {
		if h == a {
			return true
		}
	}
	return false
}

// maxHosts bounds the signalling hosts remembered per call.
const maxHosts = 16

func (c *Call) addHost(a netip.Addr) {
	if !a.IsValid() || a.IsUnspecified() || c.knownHost(a) || len(c.hosts) >= maxHosts {
		return
	}
	c.hosts = append(c.hosts, a.Unmap())
}

// Media is one media packet of a call, as handed to the Handler.
type Media struct {
	Packet *capture.Packet
	// RTP is the parsed RTP packet; nil for fax media (UDPTL), which is
	// kept as it is.
	RTP *rtp.Packet
	// Format is the negotiated format of the RTP payload type.
	Format sdp.Format
}
