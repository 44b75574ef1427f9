package calls

import (
	"net/netip"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/sdp"
	"spanrec/firmware/sipflow"
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

// Call is one call as seen on the wire. Fields are read by the Handler;
// only the Tracker changes them.
type Call struct {
	ID        string // index identifier, time-sortable
	CallID    string
	Caller    sipflow.Party
	Callee    sipflow.Party
	Dialed    string // user part of the initial Request-URI
	Transport capture.Transport
	Signal    [2]netip.AddrPort // where each side's SIP came from

	Start, Answer, End time.Time
	State              State
	Status             int    // final status of the INVITE (200, 486, 487, ...)
	StatusText         string // its reason phrase
	EndReason          string // bye-caller, bye-callee, cancel, rejected, media-timeout, ...
	Cancelled          bool
	Flags              []string // notes for the index: answer-inferred-from-ack, forked, ...

	// Media: every address each side advertised or was latched on.
	Media   [2][]netip.AddrPort
	Formats [2][]sdp.Format // what each side's latest SDP offered to receive
	Hold    [2]bool         // each side's latest SDP put the call on hold

	LastMedia    time.Time
	Resumed      time.Time // when the call last came off hold
	Packets      [2]uint64 // RTP packets each side sent while answered
	EarlyPackets uint64    // RTP packets before the answer (not recorded)

	// Invite is the initial INVITE (its headers classify the call).
	Invite *sipflow.Message

	// Rec belongs to the Handler (its recording state for this call).
	Rec any

	callerTag, calleeTag string
	inviteCSeq           uint32
	finalAt              time.Time // a failure answer or CANCEL: ends after a grace period
	early                map[string][]byte
	lastSweep            time.Time
}

// OnHold reports whether either side has put the call on hold.
func (c *Call) OnHold() bool { return c.Hold[Caller] || c.Hold[Callee] }

// Format returns the payload format a packet sent by side carries for
// payload type pt: the receiving side's SDP declares it; the sender's and
// the static table are fallbacks.
func (c *Call) Format(sender Side, pt uint8) (sdp.Format, bool) {
	for _, side := range [2]Side{sender.Other(), sender} {
		for _, f := range c.Formats[side] {
			if f.PT == pt {
				return f, true
			}
		}
	}
	return sdp.Format{}, false
}

func (c *Call) flag(f string) {
	for _, have := range c.Flags {
		if have == f {
			return
		}
	}
	c.Flags = append(c.Flags, f)
}
