package calls

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/sdp"
	"spanrec/firmware/sipflow"
)

// Handler receives what the Tracker decides about calls.
type Handler interface {
	// Answered is called once when a call is answered (recording starts).
	Answered(c *Call)
	// Media is called for every RTP packet a side of an answered call
	// sent. It is the hot path: it must not allocate.
	Media(c *Call, from Side, p *capture.Packet)
	// Ended is called once for every call, answered or not, when it ends.
	Ended(c *Call)
	// DTMF is called for a digit signalled in SIP (INFO) during the call.
	DTMF(c *Call, from Side, digit byte, at time.Time)
}

// Config bounds the Tracker. Zero fields take the defaults.
type Config struct {
	// MediaTimeout ends an answered call that is not on hold after this
	// long without RTP (the BYE was missed). Default 30 s.
	MediaTimeout time.Duration
	// HoldTimeout ends a call on hold after this long without RTP or SIP;
	// it only guards the table against calls whose BYE was lost. Default 4 h.
	HoldTimeout time.Duration
	// SetupTimeout ends a call that got no final answer. Default 5 min.
	SetupTimeout time.Duration
	// FinalGrace is how long a failed or cancelled INVITE stays open for an
	// authenticated retry or a racing 200 OK. Default 4 s.
	FinalGrace time.Duration
	// MaxCalls bounds the call table; the oldest unanswered call is evicted
	// first. Default 20000.
	MaxCalls int
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
	if c.SetupTimeout <= 0 {
		c.SetupTimeout = 5 * time.Minute
	}
	if c.FinalGrace <= 0 {
		c.FinalGrace = 4 * time.Second
	}
	if c.MaxCalls <= 0 {
		c.MaxCalls = 20000
	}
}

// Stats counts the Tracker's work.
type Stats struct {
	SIPMessages   uint64
	Calls         uint64 // calls started
	Answered      uint64
	Active        int
	Orphans       uint64 // in-dialog messages of calls never seen starting
	Ignored       uint64 // SIP outside INVITE dialogs (REGISTER, OPTIONS, ...)
	BadSDP        uint64
	MediaPackets  uint64 // RTP packets of answered calls
	EarlyPackets  uint64
	Evicted       uint64 // calls dropped because the table was full
	ForkedAnswers uint64
}

type mediaRef struct {
	call *Call
	side Side // the side that receives at (or sends from) the address
}

// Tracker is the call table. It is not safe for concurrent use: one
// capture pipeline drives it.
type Tracker struct {
	cfg     Config
	h       Handler
	log     *slog.Logger
	calls   map[string]*Call
	media   map[netip.AddrPort]mediaRef
	setupQ  []*Call // calls in the order they started, for eviction
	ringQ   []*Call // calls found ringing while evicting, oldest first
	now     time.Time
	nextRun time.Time
	stats   Stats
}

// NewTracker returns an empty call table.
func NewTracker(cfg Config, h Handler, log *slog.Logger) *Tracker {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Tracker{
		cfg:   cfg,
		h:     h,
		log:   log,
		calls: make(map[string]*Call),
		media: make(map[netip.AddrPort]mediaRef),
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
	s.Active = len(t.calls)
	return s
}

// Calls returns the calls in the table (for status displays).
func (t *Tracker) Calls() []*Call {
	out := make([]*Call, 0, len(t.calls))
	for _, c := range t.calls {
		out = append(out, c)
	}
	return out
}

// HandleMedia routes a UDP datagram to its call if its source or
// destination is a media address of one. It reports whether it did.
func (t *Tracker) HandleMedia(p *capture.Packet) bool {
	var c *Call
	var from Side
	if ref, ok := t.media[p.Dst]; ok {
		c, from = ref.call, ref.side.Other()
		if _, known := t.media[p.Src]; !known {
			t.latch(c, from, p.Src)
		}
	} else if ref, ok := t.media[p.Src]; ok {
		c, from = ref.call, ref.side
		t.latch(c, from.Other(), p.Dst)
	} else {
		return false
	}
	t.advance(p.Time)
	if c.State != Answered {
		c.EarlyPackets++
		t.stats.EarlyPackets++
		return true
	}
	c.LastMedia = p.Time
	c.Packets[from]++
	t.stats.MediaPackets++
	t.h.Media(c, from, p)
	return true
}

// latch learns that side's media is also seen at addr (symmetric RTP
// through NAT: the source differs from what the SDP said).
func (t *Tracker) latch(c *Call, side Side, addr netip.AddrPort) {
	if !addr.IsValid() {
		return
	}
	t.media[addr] = mediaRef{call: c, side: side}
	c.Media[side] = append(c.Media[side], addr)
}

// HandleSIP updates the call table with one SIP message.
func (t *Tracker) HandleSIP(m *sipflow.Message) {
	t.stats.SIPMessages++
	t.advance(m.Time)
	method := m.Method
	if !m.IsRequest {
		method = m.CSeqMethod
	}
	switch method {
	case "INVITE", "ACK", "BYE", "CANCEL", "UPDATE", "PRACK", "INFO":
	default:
		t.stats.Ignored++
		return
	}
	c := t.calls[m.CallID]
	if m.IsRequest && m.Method == "INVITE" && m.To.Tag == "" {
		if c != nil {
			if m.From.Tag == c.callerTag && c.State != Answered {
				t.retryInvite(c, m)
				return
			}
			if m.From.Tag == c.callerTag && m.CSeq <= c.inviteCSeq {
				return // retransmission
			}
			// The same Call-ID starts another call: never merge the two.
			t.end(c, m.Time, "call-id-reused")
		}
		t.startCall(m)
		return
	}
	if c == nil {
		t.stats.Orphans++
		return
	}
	if m.IsRequest {
		t.request(c, m)
	} else {
		t.response(c, m)
	}
}

func (t *Tracker) startCall(m *sipflow.Message) {
	t.makeRoom()
	c := &Call{
		CallID:     m.CallID,
		Caller:     m.From,
		Callee:     m.To,
		Dialed:     m.RequestUser,
		Transport:  m.Transport,
		Start:      m.Time,
		callerTag:  m.From.Tag,
		inviteCSeq: m.CSeq,
		Invite:     m,
	}
	c.Signal[Caller] = m.Src
	c.Signal[Callee] = m.Dst
	c.ID = callIndexID(c)
	t.calls[c.CallID] = c
	t.setupQ = append(t.setupQ, c)
	t.stats.Calls++
	t.applySDP(c, Caller, m)
	t.log.Debug("call setup", "id", c.ID, "call_id", c.CallID, "caller", c.Caller.User, "callee", c.Callee.User)
}

// retryInvite handles an initial INVITE for a call that is already in the
// table: a retransmission, or a new attempt after 401/407 or a redirect.
func (t *Tracker) retryInvite(c *Call, m *sipflow.Message) {
	if m.CSeq <= c.inviteCSeq {
		return
	}
	c.inviteCSeq = m.CSeq
	c.finalAt = time.Time{}
	c.Status, c.StatusText, c.Cancelled = 0, "", false
	c.Dialed = m.RequestUser
	c.Callee = m.To
	c.Signal[Callee] = m.Dst
	c.Invite = m
	t.applySDP(c, Caller, m)
}

func (t *Tracker) request(c *Call, m *sipflow.Message) {
	from := Caller
	if m.From.Tag != c.callerTag {
		from = Callee
	}
	switch m.Method {
	case "BYE":
		if c.State == Answered {
			t.end(c, m.Time, "bye-"+from.String())
			return
		}
		c.EndReason = "bye-before-answer"
		t.end(c, m.Time, c.EndReason)
	case "CANCEL":
		if c.State != Answered {
			c.Cancelled = true
			if c.finalAt.IsZero() {
				c.finalAt = m.Time
			}
		}
	case "ACK":
		t.applySDP(c, from, m)
		if c.State != Answered && m.CSeq == c.inviteCSeq && m.To.Tag != "" && c.Status == 0 && !c.Cancelled {
			// The 200 OK was not captured, but the ACK for it was.
			c.flag("answer-inferred-from-ack")
			t.answer(c, m.To.Tag, m.Time)
		}
	case "INFO":
		if d, ok := infoDigit(m); ok && c.State == Answered {
			t.h.DTMF(c, from, d, m.Time)
		}
	default: // re-INVITE, UPDATE, PRACK
		t.applySDP(c, from, m)
	}
}

// infoDigit reads the digit of a SIP INFO carrying DTMF:
// application/dtmf-relay ("Signal=5") or application/dtmf ("5").
func infoDigit(m *sipflow.Message) (byte, bool) {
	body := strings.TrimSpace(string(m.Body))
	switch strings.ToLower(m.ContentType) {
	case "application/dtmf-relay":
		for _, line := range strings.Split(body, "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				return digitByte(strings.TrimSpace(v))
			}
		}
	case "application/dtmf":
		return digitByte(body)
	}
	return 0, false
}

func digitByte(v string) (byte, bool) {
	if len(v) != 1 {
		switch v {
		case "10":
			return '*', true
		case "11":
			return '#', true
		}
		return 0, false
	}
	c := v[0]
	switch {
	case c >= '0' && c <= '9', c == '*', c == '#':
		return c, true
	case c >= 'A' && c <= 'D', c >= 'a' && c <= 'd':
		return c &^ 0x20, true
	}
	return 0, false
}

func (t *Tracker) response(c *Call, m *sipflow.Message) {
	// A response's SDP belongs to the side that did not send the request.
	requester := Caller
	if m.From.Tag != c.callerTag {
		requester = Callee
	}
	if m.CSeqMethod != "INVITE" {
		if m.StatusCode >= 200 && m.StatusCode < 300 && (m.CSeqMethod == "UPDATE" || m.CSeqMethod == "PRACK") {
			t.applySDP(c, requester.Other(), m)
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
		if len(m.Body) > 0 && m.To.Tag != "" {
			// Early dialog SDP: remember it per fork; register its media so
			// early media is recognised (and not recorded).
			if c.early == nil {
				c.early = make(map[string][]byte)
			}
			c.early[m.To.Tag] = m.Body
			t.applySDP(c, Callee, m)
		}
	case m.StatusCode < 300:
		if c.State == Answered {
			if m.To.Tag != c.calleeTag && m.CSeq == c.inviteCSeq {
				// A second fork answered too; the caller will hang it up.
				t.stats.ForkedAnswers++
				c.flag("forked-answer-ignored")
				return
			}
			t.applySDP(c, requester.Other(), m) // answer to a re-INVITE
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
		t.answer(c, m.To.Tag, m.Time)
	default:
		if !initial {
			return // a failed re-INVITE leaves the call as it was
		}
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
	t.stats.Answered++
	t.log.Info("call answered", "id", c.ID, "call_id", c.CallID, "caller", c.Caller.User, "callee", c.Callee.User)
	t.h.Answered(c)
}

func (t *Tracker) applySDP(c *Call, side Side, m *sipflow.Message) {
	if len(m.Body) == 0 || !strings.EqualFold(m.ContentType, "application/sdp") {
		return
	}
	t.applyBody(c, side, m.Body)
}

func (t *Tracker) applyBody(c *Call, side Side, body []byte) {
	s, err := sdp.Parse(body)
	if err != nil {
		t.stats.BadSDP++
		t.log.Warn("bad SDP", "call_id", c.CallID, "err", err)
		return
	}
	a, ok := s.Audio()
	if !ok {
		return
	}
	c.Formats[side] = a.Formats
	wasHeld := c.OnHold()
	c.Hold[side] = a.OnHold()
	if wasHeld && !c.OnHold() {
		c.Resumed = t.now
	}
	if !a.Addr.IsValid() || a.Addr.Addr().IsUnspecified() {
		return
	}
	t.register(c, side, a.Addr)
	for _, alias := range t.cfg.Aliases[a.Addr.Addr()] {
		t.register(c, side, netip.AddrPortFrom(alias, a.Addr.Port()))
	}
}

func (t *Tracker) register(c *Call, side Side, addr netip.AddrPort) {
	if ref, ok := t.media[addr]; ok && ref.call == c && ref.side == side {
		return
	}
	t.media[addr] = mediaRef{call: c, side: side}
	c.Media[side] = append(c.Media[side], addr)
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
	for _, c := range t.calls {
		switch {
		case !c.finalAt.IsZero() && now.Sub(c.finalAt) >= t.cfg.FinalGrace:
			t.endUnanswered(c, c.finalAt)
		case c.State == Answered:
			last := c.LastMedia
			if last.Before(c.Answer) {
				last = c.Answer
			}
			if last.Before(c.Resumed) {
				last = c.Resumed
			}
			idle := now.Sub(last)
			if !c.OnHold() && idle >= t.cfg.MediaTimeout {
				t.end(c, last, "media-timeout")
			} else if c.OnHold() && idle >= t.cfg.HoldTimeout {
				t.end(c, last, "hold-timeout")
			}
		case c.State != Answered && now.Sub(c.Start) >= t.cfg.SetupTimeout:
			t.end(c, now, "no-final-response")
		}
	}
}

func (t *Tracker) endUnanswered(c *Call, at time.Time) {
	reason := "rejected"
	if c.Cancelled || c.Status == 487 {
		reason = "cancelled"
	}
	t.end(c, at, reason)
}

// makeRoom evicts unanswered calls when the table is full: first the
// oldest that never got a provisional answer from a callee (what an INVITE
// flood or a scan leaves), then, only if none is left, the oldest ringing
// ones. Answered calls are never evicted.
func (t *Tracker) makeRoom() {
	for len(t.calls) >= t.cfg.MaxCalls {
		var c *Call
		for len(t.setupQ) > 0 && c == nil {
			c = t.setupQ[0]
			t.setupQ[0] = nil
			t.setupQ = t.setupQ[1:]
			switch c.State {
			case Ringing:
				t.ringQ = append(t.ringQ, c)
				c = nil
			case Ended, Answered:
				c = nil
			}
		}
		for len(t.ringQ) > 0 && c == nil {
			c = t.ringQ[0]
			t.ringQ[0] = nil
			t.ringQ = t.ringQ[1:]
			if c.State != Ringing && c.State != Setup {
				c = nil
			}
		}
		if c == nil {
			return // only answered calls: the table may grow past the limit
		}
		t.stats.Evicted++
		t.end(c, t.now, "evicted-table-full")
	}
	t.setupQ = compact(t.setupQ, t.cfg.MaxCalls)
	t.ringQ = compact(t.ringQ, t.cfg.MaxCalls)
}

// compact drops answered and ended calls from an eviction queue that has
// grown past twice the table size.
func compact(q []*Call, limit int) []*Call {
	if len(q) <= 2*limit {
		return q
	}
	out := q[:0]
	for _, c := range q {
		if c.State == Setup || c.State == Ringing {
			out = append(out, c)
		}
	}
	clear(q[len(out):])
	return out
}

func (t *Tracker) end(c *Call, at time.Time, reason string) {
	if c.State == Ended {
		return
	}
	c.End = at
	c.EndReason = reason
	c.State = Ended
	if t.calls[c.CallID] == c {
		delete(t.calls, c.CallID)
	}
	for side := range c.Media {
		for _, a := range c.Media[side] {
			if ref, ok := t.media[a]; ok && ref.call == c {
				delete(t.media, a)
			}
		}
	}
	t.log.Info("call ended", "id", c.ID, "call_id", c.CallID, "reason", reason, "answered", !c.Answer.IsZero())
	t.h.Ended(c)
}

// Close ends every call still open at now (end of a capture file, or
// shutdown), with the given reason.
func (t *Tracker) Close(now time.Time, reason string) {
	if now.IsZero() {
		now = t.now
	}
	t.Expire(now)
	for _, c := range t.calls {
		if c.State == Answered {
			end := now
			if c.LastMedia.After(c.Answer) && !c.OnHold() && now.Sub(c.LastMedia) > time.Second {
				end = c.LastMedia
			}
			t.end(c, end, reason)
		} else if !c.finalAt.IsZero() {
			t.endUnanswered(c, c.finalAt)
		} else {
			t.end(c, now, reason)
		}
	}
	t.setupQ, t.ringQ = nil, nil
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
