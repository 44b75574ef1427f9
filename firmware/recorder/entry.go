package recorder

import (
	"fmt"
	"strings"
	"time"

	"spanrec/firmware/calls"
	"spanrec/firmware/capture"
	"spanrec/firmware/index"
	"spanrec/media/wav"
)

// entry builds the index entry of a call from what the tracker saw. Text
// from SIP is kept exactly (the index escapes it); only what goes into the
// WAV's metadata is made printable (infoTags).
func (r *Recorder) entry(c *calls.Call) *index.Call {
	e := &index.Call{
		ID:         c.ID,
		CallID:     c.CallID,
		Caller:     c.Caller.User,
		CallerName: c.Caller.Display,
		Callee:     c.Callee.User,
		CalleeName: c.Callee.Display,
		Dialed:     c.Dialed,
		RequestURI: c.RequestURI,
		Start:      c.Start.UTC(),
		Answer:     c.Answer.UTC(),
		End:        c.End.UTC(),
		EndReason:  c.EndReason,
		Status:     c.Status,
		Transport:  transportName(c.Transport),
		Flags:      append([]string(nil), c.Flags...),
		Legs:       append([]string(nil), c.Legs...),
		Codec:      c.Codec(),
	}
	if c.Answer.IsZero() {
		e.Answer = time.Time{}
	} else {
		e.DurationS = c.End.Sub(c.Answer).Seconds()
	}
	if a := c.Media[calls.Caller].Addr; a.IsValid() {
		e.CallerAddr = a.String()
	}
	if a := c.Media[calls.Callee].Addr; a.IsValid() {
		e.CalleeAddr = a.String()
	}
	for _, f := range c.Foreign {
		e.ForeignMedia = append(e.ForeignMedia, index.ForeignMedia{Source: f.Addr.String(), To: f.To.String(), Packets: f.Packets})
	}
	return e
}

func appendFlag(flags []string, f string) []string {
	for _, have := range flags {
		if have == f {
			return flags
		}
	}
	return append(flags, f)
}

func (r *Recorder) fillMedia(e *index.Call, c *calls.Call, rec *recording) {
	if len(rec.codecs) > 0 {
		e.Codec = strings.Join(rec.codecs, ",")
	}
	var silent []string
	for side := calls.Caller; side <= calls.Callee; side++ {
		if c.Packets[side] == 0 {
			silent = append(silent, side.String())
		}
		if rec.streams[side] == nil || !rec.streams[side].Started() {
			continue
		}
		st := rec.streams[side].Stats()
		e.Streams = append(e.Streams, index.StreamStats{
			Side:              side.String(),
			Source:            rec.source[side],
			Packets:           st.Packets,
			Lost:              st.Lost,
			Duplicates:        st.Duplicates,
			Late:              st.TooOld,
			SSRCChanges:       st.SSRCChanges,
			ClockCorrectionMS: float64(st.Corrected) * 1000 / float64(rec.rate),
		})
	}
	switch len(silent) {
	case 1:
		e.OneWay = true
		e.SilentSide = silent[0]
	case 2:
		e.SilentSide = "both"
		e.Flags = appendFlag(e.Flags, "no-media")
	}
	for _, name := range rec.codecs {
		if !decodable(name) {
			e.Flags = appendFlag(e.Flags, "undecodable-codec:"+name)
		}
	}
	for _, cd := range rec.codec {
		if cd.undecoded != "" {
			e.Flags = appendFlag(e.Flags, "undecoded:"+cd.undecoded)
		}
	}
	for _, f := range rec.encrypted {
		e.Flags = appendFlag(e.Flags, f)
	}
	e.SampleRate = rec.rate
}

func transportName(t capture.Transport) string {
	switch t {
	case capture.UDP:
		return "udp"
	case capture.TCP:
		return "tcp"
	}
	return ""
}

// notAnsweredReason says, for the index, why a call has no recording.
func notAnsweredReason(c *calls.Call) string {
	status := ""
	if c.Status >= 300 {
		status = fmt.Sprintf(" (%d %s)", c.Status, c.StatusText)
	}
	switch c.EndReason {
	case "cancelled":
		return "not answered: cancelled by the caller" + status
	case "rejected":
		return "not answered: rejected" + status
	case "no-final-response":
		return "not answered: no final response to the INVITE"
	case "evicted-table-full":
		return "not answered: dropped from a full call table"
	case "evicted-sip-budget":
		return "not answered: dropped when the calls' SIP budget was full"
	case "call-id-reused":
		return "not answered: Call-ID reused by a new call"
	case "bye-before-answer":
		return "not answered: BYE before any answer was seen"
	}
	return "not answered: " + c.EndReason + status
}

// evictedReason says why an answered call was evicted by the tracker, and
// whether it was.
func evictedReason(c *calls.Call) (string, bool) {
	switch c.EndReason {
	case "evicted-table-full":
		return "dropped from a full call table (calls.max_calls)", true
	case "evicted-sip-budget":
		return "dropped when the calls' SIP budget was full (limits.sip_mb)", true
	}
	return "", false
}

func infoTags(e *index.Call, software string) []wav.InfoTag {
	caller, callee := partyLabel(e.Caller, e.CallerName), partyLabel(e.Callee, e.CalleeName)
	return []wav.InfoTag{
		{ID: "INAM", Value: wav.Printable(fmt.Sprintf("Call %s -> %s", caller, callee))},
		{ID: "IART", Value: wav.Printable(caller)},
		{ID: "ICRD", Value: e.Answer.Format(time.RFC3339)},
		{ID: "ISFT", Value: wav.Printable(software)},
		{ID: "ICMT", Value: wav.Printable(fmt.Sprintf("id=%s; call-id=%s; caller=%s; callee=%s; dialed=%s; start=%s; answer=%s; end=%s; duration=%.3fs; codec=%s; channels=left:caller,right:callee",
			e.ID, e.CallID, e.Caller, e.Callee, e.Dialed,
			e.Start.Format(time.RFC3339Nano), e.Answer.Format(time.RFC3339Nano), e.End.Format(time.RFC3339Nano),
			e.DurationS, e.Codec))},
	}
}

func partyLabel(user, display string) string {
	if display == "" {
		return user
	}
	return fmt.Sprintf("%s <%s>", display, user)
}
