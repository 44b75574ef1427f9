package policy

import (
	"net"
	"net/netip"
	"regexp"
	"strings"
)

// Directions of a call (Class.Direction).
const (
	Internal = "internal"
	Inbound  = "inbound"
	Outbound = "outbound"
	Unknown  = "unknown"
)

// Queue legs (Class.QueueLeg).
const (
	// LegCallerToQueue is the call to the queue number.
	LegCallerToQueue = "caller-to-queue"
	// LegAgent is the call the queue sets up to an agent.
	LegAgent = "agent"
)

// CallInfo is what classification needs of a new call: its initial INVITE.
type CallInfo struct {
	// Caller and Callee are the numbers (user parts) of From and To.
	Caller, Callee string
	// Dialed is the user part of the INVITE's Request-URI.
	Dialed string
	// CallerHost and CalleeHost are the host parts of From and To.
	CallerHost, CalleeHost string
	// From is the signalling source of the INVITE, To its destination.
	From, To netip.AddrPort
	// Header returns the values of a header of the INVITE (by name,
	// case-insensitive); nil: no headers are known.
	Header func(name string) []string
}

// Class is what a call is, as far as recording is concerned.
type Class struct {
	// Direction is Internal, Inbound, Outbound or Unknown.
	Direction string
	// Trunk is the name of the trunk the call is on; empty for none.
	Trunk string
	// Extensions are the local extensions of the call (caller, callee and
	// dialed number, in that order, without repeats).
	Extensions []string
	// Queue is the queue's name (its number when unnamed) when the call is
	// a queue call.
	Queue string
	// QueueLeg is LegCallerToQueue or LegAgent for a queue call.
	QueueLeg string
	// Conference is the room's name (its number when unnamed) when the
	// call is to a conference room.
	Conference string
	// Voicemail is set for calls to a voicemail access number.
	Voicemail bool
	// Paging is set for paging and intercom calls.
	Paging bool
}

// Classify classifies a call against p (which should be valid, see
// Validate; invalid entries are ignored). A daemon classifying every call
// should Compile once, or use an Engine.
func Classify(p *PBX, c CallInfo) Class {
	return compileLenient(p, nil).Classify(c)
}

// Classify classifies a call.
func (pol *Policy) Classify(c CallInfo) Class {
	caller, callee, dialed := cleanNumber(c.Caller), cleanNumber(c.Callee), cleanNumber(c.Dialed)
	var cl Class
	targets := [2]string{dialed, callee}

	for _, t := range targets {
		if t == "" {
			continue
		}
		if cl.Queue == "" {
			for _, q := range pol.queues {
				if q.number == t {
					cl.Queue, cl.QueueLeg = q.label, LegCallerToQueue
					break
				}
			}
		}
		if cl.Conference == "" {
			for _, r := range pol.rooms {
				if r.number == t {
					cl.Conference = r.label
					break
				}
			}
		}
		cl.Voicemail = cl.Voicemail || pol.voicemail.match(t)
		cl.Paging = cl.Paging || pol.pagingNums.match(t)
	}
	if cl.Queue == "" && c.Header != nil {
		for _, q := range pol.queues {
			if q.header != "" && headerMatches(c.Header, q.header, q.re) {
				cl.Queue, cl.QueueLeg = q.label, LegAgent
				break
			}
		}
	}
	if !cl.Paging && c.Header != nil {
		for _, h := range pol.pagingHdrs {
			if headerMatches(c.Header, h.name, h.re) {
				cl.Paging = true
				break
			}
		}
	}

	for _, n := range [3]string{caller, callee, dialed} {
		if pol.isExtension(n) && !contains(cl.Extensions, n) {
			cl.Extensions = append(cl.Extensions, n)
		}
	}

	cl.Direction, cl.Trunk = pol.direction(c, caller, callee, dialed)
	return cl
}

// direction finds the call's direction and trunk.
func (pol *Policy) direction(c CallInfo, caller, callee, dialed string) (string, string) {
	for _, t := range pol.trunks {
		for _, a := range t.addrs {
			if a.match(c.From) {
				return Inbound, t.name
			}
		}
	}
	for _, t := range pol.trunks {
		for _, a := range t.addrs {
			if a.match(c.To) {
				return Outbound, t.name
			}
		}
	}
	callerLocal := pol.isLocal(caller)
	calleeLocal := pol.isLocal(dialed) || pol.isLocal(callee)
	fromHost, toHost := hostOnly(c.CallerHost), hostOnly(c.CalleeHost)
	var fromTrunk, toTrunk string
	for _, t := range pol.trunks {
		if fromTrunk == "" && t.hasDomain(fromHost) {
			fromTrunk = t.name
		}
		if toTrunk == "" && t.hasDomain(toHost) {
			toTrunk = t.name
		}
	}
	switch {
	case fromTrunk != "" && toTrunk != "":
		// Carriers often put their own domain in both From and To: the
		// local side decides.
		if callerLocal && !calleeLocal {
			return Outbound, toTrunk
		}
		return Inbound, fromTrunk
	case fromTrunk != "":
		return Inbound, fromTrunk
	case toTrunk != "":
		return Outbound, toTrunk
	}
	switch {
	case callerLocal && calleeLocal:
		return Internal, ""
	case callerLocal:
		return Outbound, ""
	case calleeLocal:
		return Inbound, ""
	}
	return Unknown, ""
}

// hasDomain reports whether host is one of the trunk's domains.
func (t *trunk) hasDomain(host string) bool {
	if host == "" {
		return false
	}
	for _, d := range t.domains {
		if d[0] == '.' {
			if strings.HasSuffix(host, d) || host == d[1:] {
				return true
			}
		} else if host == d {
			return true
		}
	}
	return false
}

// isSpecial reports whether n is a queue, room, voicemail or paging number.
func (pol *Policy) isSpecial(n string) bool {
	for _, q := range pol.queues {
		if q.number == n {
			return true
		}
	}
	for _, r := range pol.rooms {
		if r.number == n {
			return true
		}
	}
	return pol.voicemail.match(n) || pol.pagingNums.match(n)
}

// isExtension reports whether n is a local extension.
func (pol *Policy) isExtension(n string) bool {
	if n == "" || pol.isSpecial(n) {
		return false
	}
	if len(pol.extensions) > 0 {
		return pol.extensions.match(n)
	}
	return shortNumber(n)
}

// isLocal reports whether n is a number of the PBX: an extension or a
// special number.
func (pol *Policy) isLocal(n string) bool {
	return n != "" && (pol.isSpecial(n) || pol.isExtension(n))
}

// headerMatches reports whether a value of header name matches re (or, for
// a nil re, whether the header is present).
func headerMatches(header func(string) []string, name string, re *regexp.Regexp) bool {
	vals := header(name)
	if re == nil {
		return len(vals) > 0
	}
	for _, v := range vals {
		if re.MatchString(v) {
			return true
		}
	}
	return false
}

// hostOnly lower-cases a host and drops a port.
func hostOnly(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
