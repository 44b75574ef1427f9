package calls

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/netip"
	"time"

	"spanrec/firmware/sipflow"
	"spanrec/media/rtp"
	"spanrec/media/sdp"
)

// Handler receives what the Tracker decides about calls.
type Handler interface {
	// Answered is called once when a call is answered (recording starts):
	// the Handler sets c.Rec to the sink of the call's media.
	Answered(c *Call)
	// Ended is called once for every call, answered or not, when it ends.
	Ended(c *Call)
	// DTMF is called for a digit signalled in SIP (INFO) during the call.
	DTMF(c *Call, from Side, digit byte, at time.Time)
	// MediaIdle is called when an answered call that had media has seen
	// none for the media timeout while its in-dialog SIP keeps it alive:
	// the call goes on (its BYE still ends it), its open files can be
	// released. Media afterwards is handed on as before.
	MediaIdle(c *Call, at time.Time)
}

// MediaSink takes the media of one call (its recording, kept in Call.Rec).
type MediaSink interface {
	// Media is called for every media packet a side of the answered call
	// sent from its own source: RTP of a negotiated payload type, or the
	// UDPTL of a fax. It is the hot path: it must not allocate.
	Media(from Side, m *Media)
}

// Config bounds the Tracker. Zero fields take the defaults.
type Config struct {
	// MediaTimeout ends an answered call that had media, is not on hold and
	// shows no sign of life (media or in-dialog SIP) for this long (the BYE
	// was missed). Default 30 s.
	MediaTimeout time.Duration
	// HoldTimeout ends a call on hold after this long without RTP or SIP;
	// it only guards the table against calls whose BYE was lost. Default 4 h.
	HoldTimeout time.Duration
	// SignalTimeout ends an answered call whose media was never seen (a
	// SIP-only mirror, a fax sent another way) after this long without
	// in-dialog SIP; a Session-Expires header shortens it to the session
	// interval plus 32 s. Default: HoldTimeout.
	SignalTimeout time.Duration
	// SetupTimeout ends a call that got no final answer. Default 5 min.
	SetupTimeout time.Duration
	// FinalGrace is how long a failed or cancelled INVITE stays open for an
	// authenticated retry or a racing 200 OK. Default 4 s.
	FinalGrace time.Duration
	// MaxCalls bounds the call table, answered calls included. When it is
	// full the least valuable call goes first (see victim): the oldest of
	// the unanswered calls that never rang and the answered ones without
	// media, then the oldest ringing one, then the least active answered
	// one with media. Default 4000.
	MaxCalls int
	// MaxSIPBytes bounds the signalling all calls keep together (each
	// message counts twice: as captured and as parsed); a new call that
	// does not fit evicts as MaxCalls does. Default 32 MiB.
	MaxSIPBytes int
	// MaxCallSIPBytes bounds the signalling one call keeps (for its raw
	// media file); later messages are still followed, only not kept.
	// Default 64 KiB.
	MaxCallSIPBytes int
	// SDP bounds what is kept of each SDP (m-lines, formats, attributes).
	SDP sdp.Limits
	// Aliases maps an address that appears in SDP (a private address
	// behind NAT) to other addresses its media is also seen from/to.
	Aliases map[netip.Addr][]netip.Addr
}

func (c *Config) defaults() {
	if c.MediaTimeout <= 0 {
		c.MediaTimeout = 30 * time.Second
	}
	if c.HoldTimeout <= 0 {
		c.HoldTimeout = 4 * time.Hour
	}
	if c.SignalTimeout <= 0 {
		c.SignalTimeout = c.HoldTimeout
	}
	if c.SetupTimeout <= 0 {
		c.SetupTimeout = 5 * time.Minute
	}
	if c.FinalGrace <= 0 {
		c.FinalGrace = 4 * time.Second
	}
	if c.MaxCalls <= 0 {
		c.MaxCalls = DefaultMaxCalls
	}
	if c.MaxSIPBytes <= 0 {
		c.MaxSIPBytes = DefaultMaxSIPBytes
	}
	if c.MaxCallSIPBytes <= 0 {
		c.MaxCallSIPBytes = DefaultMaxCallSIPBytes
	}
}

// Defaults of the Config's bounds.
const (
	DefaultMaxCalls        = 4000
	DefaultMaxSIPBytes     = 32 << 20
	DefaultMaxCallSIPBytes = 64 << 10
)

// Stats counts the Tracker's work.
type Stats struct {
	SIPMessages   uint64
	Calls         uint64 // calls started
	Answered      uint64
	Active        int
	Orphans       uint64 // in-dialog messages of calls never seen starting
	Ignored       uint64 // SIP outside INVITE dialogs (REGISTER, OPTIONS, ...)
	BadSDP        uint64
	MediaPackets  uint64 // media packets of answered calls handed on
	EarlyPackets  uint64
	Evicted       uint64 // calls dropped because the table or the SIP budget was full (by kind in Rejected)
	SIPBytes      int    // signalling kept by the live calls (counted twice, see Config.MaxSIPBytes)
	ForkedAnswers uint64
	Legs          uint64 // dialogs that share a Call-ID with another one
	Retries       uint64 // INVITEs retried after 401/407 or a redirect
	// Rejected counts refused messages, addresses and packets by reason.
	Rejected Rejections
	// SIPOverTLS counts TLS segments on the SIP TLS port; OpaqueCalls the
	// calls seen only by their media to or from such hosts.
	SIPOverTLS  uint64
	OpaqueCalls uint64
}

// Tracker is the call table. It is not safe for concurrent use: one
// capture pipeline drives it.
type Tracker struct {
	cfg      Config
	h        Handler
	log      *slog.Logger
	byCallID map[string][]*Call // live dialogs per Call-ID
	n        int                // live calls
	media    map[netip.AddrPort]*addrEntry
	sip      addrSet // addresses that carry SIP: never media
	stale    []staleAddr
	setupQ   []*Call // calls in the order they started, for eviction
	ringQ    []*Call // calls found ringing while evicting, oldest first
	answerQ  []*Call // answered calls in the order they were answered
	mediaQ   []*Call // answered calls found with media while evicting
	sipBytes int     // signalling kept by the live calls (see keepSIP)
	now      time.Time
	nextRun  time.Time
	stats    Stats
	tlsHosts map[netip.Addr]time.Time // hosts seen speaking TLS on the SIP TLS port
	opaque   map[pairKey]*Call        // calls of TLS hosts, by media address pair
	// Reused per packet.
	pkt rtp.Packet
	m   Media
}

// NewTracker returns an empty call table.
func NewTracker(cfg Config, h Handler, log *slog.Logger) *Tracker {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Tracker{
		cfg:      cfg,
		h:        h,
		log:      log,
		byCallID: make(map[string][]*Call),
		media:    make(map[netip.AddrPort]*addrEntry),
		sip:      newAddrSet(maxSIPAddrs),
		tlsHosts: make(map[netip.Addr]time.Time),
		opaque:   make(map[pairKey]*Call),
	}
}

// SetConfig changes the limits and aliases; calls in progress keep their
// media addresses, new calls and the next timeout checks use the new values.
func (t *Tracker) SetConfig(cfg Config) {
	cfg.defaults()
	t.cfg = cfg
}

// Stats returns the counters.
func (t *Tracker) Stats() Stats {
	s := t.stats
	s.Active = t.n + len(t.opaque)
	s.SIPBytes = t.sipBytes
	return s
}

// Calls returns the calls in the table (for status displays).
func (t *Tracker) Calls() []*Call {
	out := make([]*Call, 0, t.n)
	for _, legs := range t.byCallID {
		out = append(out, legs...)
	}
	return out
}

func (t *Tracker) reject(r Reason) { t.stats.Rejected[r]++ }

// callMethods are the methods whose messages the Tracker follows: the
// INVITE dialog and what keeps it alive.
func callMethod(m string) bool {
	switch m {
	case "INVITE", "ACK", "BYE", "CANCEL", "UPDATE", "PRACK", "INFO",
		"OPTIONS", "NOTIFY", "REFER", "MESSAGE", "SUBSCRIBE":
		return true
	}
	return false
}

// HandleSIP updates the call table with one SIP message.
func (t *Tracker) HandleSIP(m *sipflow.Message) {
	t.stats.SIPMessages++
	t.advance(m.Time)
	t.noteSIPAddr(m.Src)
	if m.IsRequest {
		t.noteSIPAddr(m.Dst)
	}
	method := m.Method
	if !m.IsRequest {
		method = m.CSeqMethod
	}
	if !callMethod(method) {
		t.stats.Ignored++
		return
	}
	legs := t.byCallID[m.CallID]
	if m.IsRequest && m.To.Tag == "" && m.Method != "CANCEL" {
		if m.Method == "INVITE" {
			t.initialInvite(legs, m)
		} else {
			t.stats.Ignored++ // out-of-dialog OPTIONS, MESSAGE, ...
		}
		return
	}
	if len(legs) == 0 {
		t.stats.Orphans++
		return
	}
	c, from, confirmed, ok := dialogOf(legs, m)
	if !ok {
		t.reject(WrongTags)
		return
	}
	if !c.knownHost(m.Src.Addr()) {
		t.reject(UnknownHost)
		return
	}
	c.addHost(m.Dst.Addr())
	t.learnHosts(c, m)
	t.keepSIP(c, m)
	if m.IsRequest {
		t.request(c, from, confirmed, m)
	} else {
		t.response(c, from, m)
	}
}

// noteSIPAddr remembers an address that carries SIP; media registered at it
// by some SDP is dropped (SIP is never media).
func (t *Tracker) noteSIPAddr(a netip.AddrPort) {
	if !a.IsValid() || t.sip.has(a) {
		return
	}
	t.sip.add(a)
	if e := t.media[a]; e != nil {
		for len(e.refs) > 0 {
			r := e.refs[0]
			t.unregister(r.call, r.side, a, r.kind)
		}
		t.reject(SDPNamesSIP)
	}
}

// initialInvite handles an INVITE without a To tag: a new call, a new leg
// of a known Call-ID, a retransmission or a retry.
func (t *Tracker) initialInvite(legs []*Call, m *sipflow.Message) {
	if c := byCallerTag(legs, m.From.Tag); c != nil {
		if !c.knownHost(m.Src.Addr()) {
			t.reject(UnknownHost)
			return
		}
		c.addHost(m.Dst.Addr())
		t.learnHosts(c, m)
		t.keepSIP(c, m)
		if m.CSeq <= c.inviteCSeq {
			return // a retransmission, or a proxy forwarding the INVITE on
		}
		if c.State != Answered {
			t.retryInvite(c, m)
			return
		}
		// The caller of an answered dialog starts over with its Call-ID and
		// tag: a new call. The two are never merged.
		t.end(c, m.Time, EndCallIDReused)
		t.startCall(m)
		return
	}
	// A new From tag for a known Call-ID: a retry after 401/407 (or a
	// redirect) by a stack that changes its tag, or another leg.
	for _, c := range legs {
		if c.State != Answered && !c.finalAt.IsZero() && c.Status >= 300 &&
			c.knownHost(m.Src.Addr()) && c.Caller.User == m.From.User {
			c.oldTags = append(c.oldTags, c.callerTag)
			c.callerTag = m.From.Tag
			c.Caller.Tag = m.From.Tag
			t.learnHosts(c, m)
			t.keepSIP(c, m)
			t.retryInvite(c, m)
			return
		}
	}
	t.startCall(m)
}

func byCallerTag(legs []*Call, tag string) *Call {
	for _, c := range legs {
		if c.callerTag == tag {
			return c
		}
		for _, old := range c.oldTags {
			if old == tag {
				return c
			}
		}
	}
	return nil
}

// dialogOf finds the dialog an in-dialog message or a response belongs to,
// by its tags: from says which side sent a request (or, for a response,
// which side sent the request it answers); confirmed is false for messages
// of another fork or of an early dialog of an answered call.
func dialogOf(legs []*Call, m *sipflow.Message) (c *Call, from Side, confirmed, ok bool) {
	if c = byCallerTag(legs, m.From.Tag); c != nil {
		// Sent by the caller (or a response to the caller's request).
		if !m.IsRequest || m.To.Tag == "" {
			return c, Caller, true, true
		}
		switch {
		case c.State == Answered && m.To.Tag == c.calleeTag:
			return c, Caller, true, true
		case c.hasTag(m.To.Tag):
			return c, Caller, false, true
		case c.State != Answered && len(c.tags) == 0:
			return c, Caller, false, true // the provisional answers were missed
		}
		return nil, 0, false, false
	}
	if c = byCallerTag(legs, m.To.Tag); c != nil && m.To.Tag != "" {
		// Sent by the callee (or a response to the callee's request).
		switch {
		case c.State == Answered && m.From.Tag == c.calleeTag:
			return c, Callee, true, true
		case c.hasTag(m.From.Tag):
			return c, Callee, false, true
		}
	}
	return nil, 0, false, false
}

func (c *Call) hasTag(tag string) bool {
	if tag == "" {
		return false
	}
	if tag == c.calleeTag {
		return true
	}
	for _, t := range c.tags {
		if t == tag {
			return true
		}
	}
	return false
}

// maxTags bounds the To tags remembered per call; maxEarlySDP the size of
// an early dialog's SDP kept for a 200 OK without one.
const (
	maxTags     = 16
	maxEarlySDP = 16 << 10
)

func (c *Call) addTag(tag string) {
	if tag == "" || c.hasTag(tag) || len(c.tags) >= maxTags {
		return
	}
	c.tags = append(c.tags, tag)
}

// learnHosts adds the hosts a message names for the dialog's next hops:
// its Contact (the remote target) and Record-Route entries.
func (t *Tracker) learnHosts(c *Call, m *sipflow.Message) {
	c.addHost(uriHost(m.Contact))
	for _, rr := range m.Headers("Record-Route") {
		c.addHost(uriHost(rr))
	}
}

func (t *Tracker) startCall(m *sipflow.Message) {
	t.makeRoom(keptSize(m))
	c := &Call{
		CallID:     m.CallID,
		Caller:     m.From,
		Callee:     m.To,
		Dialed:     m.To.User,
		RequestURI: m.RequestURI,
		Transport:  m.Transport,
		Start:      m.Time,
		callerTag:  m.From.Tag,
		inviteCSeq: m.CSeq,
		Invite:     m.Raw,
	}
	c.Signal[Caller] = m.Src
	c.Signal[Callee] = m.Dst
	c.addHost(m.Src.Addr())
	c.addHost(m.Dst.Addr())
	t.learnHosts(c, m)
	t.keepSIP(c, m)
	c.sessionExpires = sessionExpires(m)
	c.ID = callIndexID(c)
	legs := t.byCallID[c.CallID]
	for _, other := range legs {
		other.Legs = append(other.Legs, c.ID)
		c.Legs = append(c.Legs, other.ID)
	}
	if len(legs) > 0 {
		t.stats.Legs++
	}
	t.byCallID[c.CallID] = append(legs, c)
	t.n++
	t.setupQ = append(t.setupQ, c)
	t.stats.Calls++
	t.applySDP(c, Caller, m)
	t.log.Debug("call setup", "id", c.ID, "call_id", c.CallID, "caller", c.Caller.User, "callee", c.Callee.User)
}

// retryInvite handles a new initial INVITE of a call that is not answered:
// a new attempt after 401/407 or a redirect.
func (t *Tracker) retryInvite(c *Call, m *sipflow.Message) {
	t.stats.Retries++
	c.inviteCSeq = m.CSeq
	c.finalAt = time.Time{}
	c.Status, c.StatusText, c.Cancelled = 0, "", false
	c.Callee = m.To
	c.Signal[Callee] = m.Dst
	c.Invite = m.Raw
	if se := sessionExpires(m); se > 0 {
		c.sessionExpires = se
	}
	t.applySDP(c, Caller, m)
}

// request handles an in-dialog request (or a CANCEL) sent by side from.
func (t *Tracker) request(c *Call, from Side, confirmed bool, m *sipflow.Message) {
	if c.State == Answered && confirmed {
		c.LastSignal = m.Time
		if se := sessionExpires(m); se > 0 {
			c.sessionExpires = se
		}
	}
	switch m.Method {
	case "BYE":
		if c.State == Answered {
			if confirmed {
				t.end(c, m.Time, endBye(from))
			}
			return // the caller hangs up a second fork that answered
		}
		t.end(c, m.Time, EndByeBeforeAnswer)
	case "CANCEL":
		if c.State != Answered && from == Caller {
			c.Cancelled = true
			if c.finalAt.IsZero() {
				c.finalAt = m.Time
			}
		}
	case "ACK":
		if c.State == Answered && !confirmed {
			return
		}
		t.applySDP(c, from, m) // the answer to an offer in the 200 OK
		if c.State != Answered && m.CSeq == c.inviteCSeq && m.To.Tag != "" && c.Status == 0 && !c.Cancelled {
			// The 200 OK was not captured, but the ACK for it was.
			c.flag("answer-inferred-from-ack")
			t.answer(c, m.To.Tag, m.Time)
		}
	case "INFO":
		if d, ok := infoDigit(m); ok && c.State == Answered && confirmed {
			t.h.DTMF(c, from, d, m.Time)
		}
	case "INVITE", "UPDATE", "PRACK":
		if c.State == Answered && !confirmed {
			return
		}
		t.applySDP(c, from, m)
	}
}

// response handles a response to a request sent by side requester.
func (t *Tracker) response(c *Call, requester Side, m *sipflow.Message) {
	// A response's SDP belongs to the side that did not send the request.
	if m.CSeqMethod != "INVITE" {
		if m.StatusCode >= 200 && m.StatusCode < 300 && (m.CSeqMethod == "UPDATE" || m.CSeqMethod == "PRACK") {
			t.applySDP(c, requester.Other(), m)
		}
		return
	}
	if requester == Callee {
		if c.State == Answered && m.StatusCode >= 200 && m.StatusCode < 300 {
			t.applySDP(c, Caller, m) // the caller answers the callee's re-INVITE
		}
		return
	}
	initial := m.CSeq == c.inviteCSeq && c.State != Answered
	switch {
	case m.StatusCode < 200:
		if !initial {
			return
		}
		if m.StatusCode > 100 && c.State == Setup {
			c.State = Ringing
		}
		c.addTag(m.To.Tag)
		if len(m.Body) > 0 && m.To.Tag != "" {
			// Early dialog SDP: remember it per fork; register its media so
			// early media is recognised (and not recorded).
			if c.early == nil {
				c.early = make(map[string][]byte)
			}
			if _, ok := c.early[m.To.Tag]; (ok || len(c.early) < maxTags) && len(m.Body) <= maxEarlySDP {
				c.early[m.To.Tag] = m.Body
			}
			t.applySDP(c, Callee, m)
		}
	case m.StatusCode < 300:
		if c.State == Answered {
			if m.To.Tag != c.calleeTag {
				if m.CSeq == c.inviteCSeq {
					// A second fork answered too; the caller will hang it up.
					t.stats.ForkedAnswers++
					c.flag("forked-answer-ignored")
					c.addTag(m.To.Tag)
				}
				return
			}
			t.applySDP(c, Callee, m) // answer to a re-INVITE
			return
		}
		if m.CSeq != c.inviteCSeq {
			return
		}
		c.Status, c.StatusText = m.StatusCode, m.Reason
		if len(m.Body) > 0 {
			t.applySDP(c, Callee, m)
		} else if body, ok := c.early[m.To.Tag]; ok {
			t.applyBody(c, Callee, body)
		}
		if se := sessionExpires(m); se > 0 {
			c.sessionExpires = se
		}
		t.answer(c, m.To.Tag, m.Time)
	default:
		if !initial {
			return // a failed re-INVITE leaves the call as it was
		}
		c.addTag(m.To.Tag)
		c.Status, c.StatusText = m.StatusCode, m.Reason
		if c.finalAt.IsZero() || m.StatusCode == 487 {
			c.finalAt = m.Time
		}
	}
}

func (t *Tracker) answer(c *Call, toTag string, at time.Time) {
	if len(c.early) > 1 {
		c.flag("forked")
	}
	c.early = nil
	c.State = Answered
	c.Answer = at
	c.calleeTag = toTag
	c.Callee.Tag = toTag
	c.finalAt = time.Time{}
	c.Cancelled = false
	if c.Status == 0 {
		c.Status = 200
	}
	// Media seen before the answer (early media) latches nothing: the
	// sources are learnt afresh, and claims on addresses are settled now.
	for side := range c.Media {
		t.resetSource(c, Side(side))
	}
	t.settleClaims(c)
	t.answerQ = append(t.answerQ, c)
	t.stats.Answered++
	t.log.Info("call answered", "id", c.ID, "call_id", c.CallID, "caller", c.Caller.User, "callee", c.Callee.User)
	t.h.Answered(c)
}

// advance moves the Tracker's clock and runs timeouts once a second.
func (t *Tracker) advance(now time.Time) {
	if now.After(t.now) {
		t.now = now
	}
	if t.now.Before(t.nextRun) {
		return
	}
	t.nextRun = t.now.Add(time.Second)
	t.Expire(t.now)
}

// Expire ends the calls whose time is up at now.
func (t *Tracker) Expire(now time.Time) {
	t.releaseStale(now)
	t.expireOpaque(now, false, EndMediaTimeout)
	for _, legs := range t.byCallID {
		for i := len(legs) - 1; i >= 0; i-- {
			t.expire(legs[i], now)
		}
	}
}

func (t *Tracker) expire(c *Call, now time.Time) {
	switch {
	case !c.finalAt.IsZero() && now.Sub(c.finalAt) >= t.cfg.FinalGrace:
		t.endUnanswered(c, c.finalAt)
	case c.State == Answered:
		last := latest(c.LastMedia, c.Answer, c.Resumed)
		alive := latest(last, c.LastSignal)
		idle := now.Sub(alive)
		switch {
		case c.OnHold():
			if idle >= t.cfg.HoldTimeout {
				t.end(c, alive, EndHoldTimeout)
			}
		case c.Packets[Caller]+c.Packets[Callee] > 0:
			switch {
			case idle >= t.cfg.MediaTimeout:
				t.end(c, alive, EndMediaTimeout)
			case !c.mediaIdle && now.Sub(last) >= t.cfg.MediaTimeout:
				// In-dialog SIP keeps the call, but its media stopped:
				// what it holds open is released until media comes back.
				c.mediaIdle = true
				t.h.MediaIdle(c, last)
			}
		default:
			// No media seen at all: only the signalling tells whether the
			// call still runs.
			limit := t.cfg.SignalTimeout
			if c.sessionExpires > 0 {
				limit = min(limit, c.sessionExpires+32*time.Second)
			}
			if idle >= limit {
				t.end(c, alive, EndSignalTimeout)
			}
		}
	case now.Sub(c.Start) >= t.cfg.SetupTimeout:
		t.end(c, now, EndNoFinalResponse)
	}
}

func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}

func (t *Tracker) endUnanswered(c *Call, at time.Time) {
	reason := EndRejected
	if c.Cancelled || c.Status == 487 {
		reason = EndCancelled
	}
	t.end(c, at, reason)
}

// makeRoom evicts calls while the table is full or the signalling of a
// new call of need bytes does not fit the SIP budget, least valuable first
// (see victim). Only when no call is left to evict does the table grow past
// its bounds.
func (t *Tracker) makeRoom(need int) {
	for t.n > 0 && (t.n >= t.cfg.MaxCalls || t.sipBytes+need > t.cfg.MaxSIPBytes) {
		reason := EndTableFull
		if t.n < t.cfg.MaxCalls {
			reason = EndSIPBudget
		}
		c, r := t.victim()
		if c == nil {
			break
		}
		t.stats.Evicted++
		t.reject(r)
		end := t.now
		if c.State == Answered {
			end = latest(c.LastMedia, c.Answer, c.Resumed, c.LastSignal)
		}
		t.end(c, end, reason)
	}
	t.setupQ = compact(t.setupQ, t.cfg.MaxCalls, Setup, Ringing)
	t.ringQ = compact(t.ringQ, t.cfg.MaxCalls, Setup, Ringing)
	t.answerQ = compact(t.answerQ, t.cfg.MaxCalls, Answered, Answered)
	t.mediaQ = compact(t.mediaQ, t.cfg.MaxCalls, Answered, Answered)
}

// victim picks the call to evict, and the reason it is counted under:
// the older of the oldest call that never got a provisional answer from a
// callee (what an INVITE flood or a scan leaves) and the oldest answered
// call whose media was never seen (what spoofed answers leave; a SIP-only
// mirror's calls would be indexed "no-media" anyway), by when each last
// showed life; then the oldest ringing call; and only then the answered
// call with media that was active least recently. A real call is exposed
// only until its first provisional answer, and only to state older than
// itself. Each queue is scanned from its front once: the cost is
// amortised constant, except for the last resort.
func (t *Tracker) victim() (*Call, Reason) {
	setup, quiet := t.frontSetup(), t.frontNoMedia()
	switch {
	case setup != nil && (quiet == nil || !latest(quiet.Answer, quiet.LastSignal).Before(setup.Start)):
		t.setupQ[0] = nil
		t.setupQ = t.setupQ[1:]
		return setup, EvictedUnanswered
	case quiet != nil:
		t.answerQ[0] = nil
		t.answerQ = t.answerQ[1:]
		return quiet, EvictedNoMedia
	}
	for len(t.ringQ) > 0 {
		c := t.ringQ[0]
		t.ringQ[0] = nil
		t.ringQ = t.ringQ[1:]
		if c.State == Ringing || c.State == Setup {
			return c, EvictedUnanswered
		}
	}
	best := -1
	var bestAt time.Time
	for i, c := range t.mediaQ {
		if c.State != Answered {
			continue
		}
		if at := latest(c.LastMedia, c.LastSignal, c.Answer); best < 0 || at.Before(bestAt) {
			best, bestAt = i, at
		}
	}
	if best < 0 {
		clear(t.mediaQ)
		t.mediaQ = t.mediaQ[:0]
		return nil, 0
	}
	c := t.mediaQ[best]
	t.mediaQ = append(t.mediaQ[:best], t.mediaQ[best+1:]...)
	return c, EvictedActive
}

// frontSetup returns the oldest call still in Setup (left at the front of
// setupQ), moving ringing calls to ringQ and dropping the others.
func (t *Tracker) frontSetup() *Call {
	for len(t.setupQ) > 0 {
		c := t.setupQ[0]
		switch c.State {
		case Setup:
			return c
		case Ringing:
			t.ringQ = append(t.ringQ, c)
		}
		t.setupQ[0] = nil
		t.setupQ = t.setupQ[1:]
	}
	return nil
}

// frontNoMedia returns the oldest answered call without media (left at
// the front of answerQ), moving those with media to mediaQ and dropping
// ended ones.
func (t *Tracker) frontNoMedia() *Call {
	for len(t.answerQ) > 0 {
		c := t.answerQ[0]
		if c.State == Answered {
			if c.Packets[Caller]+c.Packets[Callee] == 0 {
				return c
			}
			t.mediaQ = append(t.mediaQ, c)
		}
		t.answerQ[0] = nil
		t.answerQ = t.answerQ[1:]
	}
	return nil
}

// keptSize is what keeping m costs against the SIP budget: its bytes as
// captured and, about as much, as parsed.
func keptSize(m *sipflow.Message) int { return 2 * len(m.Raw) }

// keepSIP adds m to c's signalling within the call's and the table's
// budget; the Invite a call holds counts as kept.
func (t *Tracker) keepSIP(c *Call, m *sipflow.Message) {
	if len(c.SIP) >= maxSIPMessages || c.sipBytes+keptSize(m) > t.cfg.MaxCallSIPBytes && len(c.SIP) > 0 {
		c.SIPDropped++
		t.reject(SIPNotKept)
		return
	}
	c.sipBytes += keptSize(m)
	t.sipBytes += keptSize(m)
	c.SIP = append(c.SIP, Signalling{Time: m.Time, Src: m.Src, Dst: m.Dst, Transport: m.Transport, Raw: m.Raw})
}

// compact keeps only the calls in state a or b of an eviction queue that
// has grown past twice the table size.
func compact(q []*Call, limit int, a, b State) []*Call {
	if len(q) <= 2*limit {
		return q
	}
	out := q[:0]
	for _, c := range q {
		if c.State == a || c.State == b {
			out = append(out, c)
		}
	}
	clear(q[len(out):])
	return out
}

func (t *Tracker) end(c *Call, at time.Time, reason EndReason) {
	if c.State == Ended {
		return
	}
	c.End = at
	c.EndReason = reason
	c.State = Ended
	legs := t.byCallID[c.CallID]
	for i, l := range legs {
		if l == c {
			legs = append(legs[:i], legs[i+1:]...)
			t.n--
			break
		}
	}
	if len(legs) == 0 {
		delete(t.byCallID, c.CallID)
	} else {
		t.byCallID[c.CallID] = legs
	}
	t.releaseAll(c)
	t.sipBytes -= c.sipBytes
	t.log.Info("call ended", "id", c.ID, "call_id", c.CallID, "reason", reason, "answered", !c.Answer.IsZero())
	t.h.Ended(c)
}

// Close ends every call still open at now (end of a capture file, or
// shutdown), with the given reason.
func (t *Tracker) Close(now time.Time, reason EndReason) {
	if now.IsZero() {
		now = t.now
	}
	t.Expire(now)
	t.expireOpaque(now, true, reason)
	for _, c := range t.Calls() {
		if c.State == Answered {
			end := now
			if c.LastMedia.After(c.Answer) && !c.OnHold() && now.Sub(c.LastMedia) > time.Second {
				end = latest(c.LastMedia, c.LastSignal)
			}
			t.end(c, end, reason)
		} else if !c.finalAt.IsZero() {
			t.endUnanswered(c, c.finalAt)
		} else {
			t.end(c, now, reason)
		}
	}
	t.setupQ, t.ringQ, t.answerQ, t.mediaQ = nil, nil, nil, nil
}

// Now returns the latest capture time seen.
func (t *Tracker) Now() time.Time { return t.now }

// callIndexID makes a time-sortable identifier that is the same every time
// the same call is seen (so re-importing a capture is idempotent).
func callIndexID(c *Call) string {
	h := fnv.New64a()
	h.Write([]byte(c.CallID))
	h.Write([]byte{0})
	h.Write([]byte(c.callerTag))
	var b [16]byte
	binary.BigEndian.PutUint32(b[:4], c.inviteCSeq)
	binary.BigEndian.PutUint64(b[4:12], uint64(c.Start.UnixNano()))
	h.Write(b[:12])
	sum := h.Sum(nil)
	return fmt.Sprintf("%s-%s", c.Start.UTC().Format("20060102T150405Z"), hex.EncodeToString(sum[:4]))
}
