package calls

// Reason is why the Tracker refused a SIP message, an SDP address or a
// media packet. Every refusal is counted by reason (Stats.Rejected).
type Reason uint8

// Reasons for refusing traffic. The suspicious ones (Reason.Suspicious) are
// what a hostile host on the mirrored LAN sends; a burst of them is a fault.
const (
	// WrongTags: an in-dialog request or a response whose Call-ID is known
	// but whose tags belong to no dialog of it.
	WrongTags Reason = iota
	// UnknownHost: an in-dialog message with the right tags from a host that
	// took no part in the dialog's signalling.
	UnknownHost
	// SDPNamesSIP: an SDP that names an address carrying SIP as media.
	SDPNamesSIP
	// SDPAddressOwned: an SDP that names a media address another answered
	// call owns (it is never taken from that call).
	SDPAddressOwned
	// ForeignSource: media sent to a call's address from another source than
	// the side's own.
	ForeignSource
	// ForeignSSRC: a second SSRC interleaved with a stream's own from its
	// source.
	ForeignSSRC
	// UnnegotiatedPT: RTP whose payload type neither side's SDP offered.
	UnnegotiatedPT
	// NotRTP: a datagram on an audio address that is not RTP version 2
	// (garbage, or an unknown protocol).
	NotRTP
	// Keepalive: a datagram too short for RTP, or STUN, on a media address
	// (NAT keepalives): ignored.
	Keepalive
	// RTCP: RTCP on a media address or the port above it: not audio.
	RTCP
	// AddressTableFull: an address not registered because too many calls
	// named it.
	AddressTableFull
	// KeyAgreement: ZRTP or DTLS on a media address: the endpoints agree
	// on keys the recorder never sees (the call is flagged encrypted).
	KeyAgreement
	// SDPTruncated: an SDP with more m-lines, payload types or attributes
	// than the limits keep (the rest is used).
	SDPTruncated
	// SIPNotKept: a SIP message past its call's signalling budget: followed,
	// not kept for the raw media file.
	SIPNotKept
	// EvictedUnanswered: an unanswered call evicted to make room (call
	// table or SIP budget full).
	EvictedUnanswered
	// EvictedNoMedia: an answered call whose media was never seen, evicted
	// to make room.
	EvictedNoMedia
	// EvictedActive: an answered call with media, the least recently
	// active, evicted to make room (the table held nothing else).
	EvictedActive
	numReasons
)

var reasonNames = [numReasons]string{
	WrongTags:         "in-dialog SIP with tags of no dialog",
	UnknownHost:       "in-dialog SIP from a host outside the dialog",
	SDPNamesSIP:       "SDP naming a SIP address as media",
	SDPAddressOwned:   "SDP naming media of another answered call",
	ForeignSource:     "media from a foreign source",
	ForeignSSRC:       "media with a foreign SSRC",
	UnnegotiatedPT:    "RTP with a payload type not negotiated",
	NotRTP:            "non-RTP datagrams on media ports",
	Keepalive:         "keepalives on media ports",
	RTCP:              "RTCP",
	AddressTableFull:  "media addresses named by too many calls",
	KeyAgreement:      "ZRTP or DTLS key agreement on media ports",
	SDPTruncated:      "SDP beyond the limits (m-lines, formats, attributes) cut",
	SIPNotKept:        "SIP messages past a call's signalling budget not kept",
	EvictedUnanswered: "unanswered calls evicted (call table or SIP budget full)",
	EvictedNoMedia:    "answered calls without media evicted (call table or SIP budget full)",
	EvictedActive:     "answered calls with media evicted, least active first (call table or SIP budget full)",
}

func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "unknown reason"
}

// Suspicious reports whether traffic refused for r comes from outside the
// dialogs it pretends to belong to (counted towards the hostile-traffic
// fault); the others are benign noise, or, for an SDP naming another call's
// media address, as likely a media server shared by many calls as a
// stranger's attempt (whose packets are then refused as foreign).
func (r Reason) Suspicious() bool {
	switch r {
	case WrongTags, UnknownHost, SDPNamesSIP, ForeignSource, ForeignSSRC:
		return true
	}
	return false
}

// Budget reports whether traffic refused for r hit one of the resource
// budgets (a fault: something the appliance should have kept was not).
func (r Reason) Budget() bool {
	switch r {
	case SDPTruncated, SIPNotKept, EvictedUnanswered, EvictedNoMedia, EvictedActive, AddressTableFull:
		return true
	}
	return false
}

// Rejections is a count per Reason.
type Rejections [numReasons]uint64

// Count is one non-zero entry of Rejections.
type Count struct {
	Reason Reason
	N      uint64
}

// List returns the non-zero counts, in Reason order.
func (r Rejections) List() []Count {
	var out []Count
	for i, n := range r {
		if n > 0 {
			out = append(out, Count{Reason: Reason(i), N: n})
		}
	}
	return out
}

// Budget returns the total of the budget reasons.
func (r Rejections) Budget() uint64 {
	var n uint64
	for i, v := range r {
		if Reason(i).Budget() {
			n += v
		}
	}
	return n
}

// Suspicious returns the total of the suspicious reasons.
func (r Rejections) Suspicious() uint64 {
	var n uint64
	for i, v := range r {
		if Reason(i).Suspicious() {
			n += v
		}
	}
	return n
}
