package recorder

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"spanrec/firmware/calls"
	"spanrec/firmware/capture"
	"spanrec/firmware/index"
	"spanrec/media/quality"
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
		EndReason:  string(c.EndReason),
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
		// Loss and duplicates have one home, the side's quality
		// measurement (sequence gaps only); the ordering stream adds what
		// only playout knows: packets too late to place, SSRC changes.
		st := rec.streams[side].Stats()
		qs := rec.quality[side].Stats()
		e.Streams = append(e.Streams, index.StreamStats{
			Side:              side.String(),
			Source:            rec.source[side],
			Packets:           st.Packets,
			Lost:              qs.Lost,
			Duplicates:        qs.Duplicates,
			Late:              st.TooOld,
			SSRCChanges:       st.SSRCChanges,
			ClockCorrectionMS: float64(st.Corrected) * 1000 / float64(rec.rate),
			Quality:           r.score(rec, side),
		})
	}
	r.rateCall(e)
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

// score estimates one side's quality for the index and counts it in the
// tally; nil when its codec has no E-model values.
func (r *Recorder) score(rec *recording, side calls.Side) *index.Quality {
	cd := rec.scored[side]
	if cd.Name == "" || !rec.quality[side].Started() {
		return nil
	}
	st := rec.quality[side].Stats()
	sc := quality.Estimate(st, cd)
	r.stats.Quality.Add(st, sc)
	return &index.Quality{
		MOS: round(sc.MOS, 2), R: round(sc.R, 1), Codec: cd.Name,
		Expected: st.Expected, LossPercent: round(100*st.LossRatio(), 2),
		MaxLostRun: st.MaxLostRun, MaxGapMS: round(ms(st.MaxGap), 1),
		JitterMeanMS: round(st.JitterMeanMS, 2), JitterMaxMS: round(st.JitterMaxMS, 2),
		OutOfOrder: st.OutOfOrder, BurstR: round(st.BurstR, 2), DelayMS: round(ms(sc.Delay), 1),
	}
}

// rateCall gives the entry the worse direction's MOS and flags it
// poor-quality below the threshold.
func (r *Recorder) rateCall(e *index.Call) {
	for _, s := range e.Streams {
		if s.Quality != nil && (e.MOS == 0 || s.Quality.MOS < e.MOS) {
			e.MOS = s.Quality.MOS
		}
	}
	if e.MOS == 0 {
		return
	}
	r.stats.Scored++
	r.stats.LastScored = LastScored{ID: e.ID, MOS: e.MOS}
	if e.MOS < r.cfg.PoorMOS {
		r.stats.PoorQuality++
		r.stats.LastScored.Poor = true
		e.Flags = appendFlag(e.Flags, index.FlagPoorQuality)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// round keeps n decimals: the index holds what a person reads.
func round(v float64, n int) float64 {
	p := math.Pow(10, float64(n))
	return math.Round(v*p) / p
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
	case calls.EndCancelled:
		return "not answered: cancelled by the caller" + status
	case calls.EndRejected:
		return "not answered: rejected" + status
	case calls.EndNoFinalResponse:
		return "not answered: no final response to the INVITE"
	case calls.EndTableFull:
		return "not answered: dropped from a full call table"
	case calls.EndSIPBudget:
		return "not answered: dropped when the calls' SIP budget was full"
	case calls.EndCallIDReused:
		return "not answered: Call-ID reused by a new call"
	case calls.EndByeBeforeAnswer:
		return "not answered: BYE before any answer was seen"
	}
	return "not answered: " + string(c.EndReason) + status
}

// evictedReason says why an answered call was evicted by the tracker, and
// whether it was.
func evictedReason(c *calls.Call) (string, bool) {
	switch c.EndReason {
	case calls.EndTableFull:
		return "dropped from a full call table (calls.max_calls)", true
	case calls.EndSIPBudget:
		return "dropped when the calls' SIP budget was full (limits.sip_mb)", true
	}
	return "", false
}

// infoTags is the WAV's LIST/INFO metadata: title, artist, date, software
// and a comment with the call's facts ("key=value; ..."), its quality per
// direction and the clock's state when it was finished.
func infoTags(e *index.Call, software string) []wav.InfoTag {
	caller, callee := partyLabel(e.Caller, e.CallerName), partyLabel(e.Callee, e.CalleeName)
	comment := fmt.Sprintf("id=%s; call-id=%s; caller=%s; callee=%s; dialed=%s; start=%s; answer=%s; end=%s; duration=%.3fs; codec=%s; channels=left:caller,right:callee",
		e.ID, e.CallID, e.Caller, e.Callee, e.Dialed,
		e.Start.Format(time.RFC3339Nano), e.Answer.Format(time.RFC3339Nano), e.End.Format(time.RFC3339Nano),
		e.DurationS, e.Codec)
	comment += qualityComment(e) + clockComment(e)
	return []wav.InfoTag{
		{ID: "INAM", Value: wav.Printable(fmt.Sprintf("Call %s -> %s", caller, callee))},
		{ID: "IART", Value: wav.Printable(caller)},
		{ID: "ICRD", Value: e.Answer.Format(time.RFC3339)},
		{ID: "ISFT", Value: wav.Printable(software)},
		{ID: "ICMT", Value: wav.Printable(comment)},
	}
}

// qualityComment is "; mos=3.95; quality-caller=mos:4.41,loss:0.00%,..."
// for each scored direction, and the poor-quality flag.
func qualityComment(e *index.Call) string {
	if e.MOS == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "; mos=%.2f", e.MOS)
	if slices.Contains(e.Flags, index.FlagPoorQuality) {
		b.WriteString(" (poor-quality)")
	}
	for _, s := range e.Streams {
		if q := s.Quality; q != nil {
			fmt.Fprintf(&b, "; quality-%s=mos:%.2f,r:%.1f,codec:%s,loss:%.2f%%,max-lost-run:%d,max-gap:%.1fms,jitter-mean:%.2fms,jitter-max:%.2fms,out-of-order:%d,duplicates:%d",
				s.Side, q.MOS, q.R, q.Codec, q.LossPercent, q.MaxLostRun, q.MaxGapMS, q.JitterMeanMS, q.JitterMaxMS, q.OutOfOrder, s.Duplicates)
		}
	}
	return b.String()
}

// clockComment is the clock's state: "; clock=synchronised,error:1.5ms",
// "; clock=not-synchronised,...", or before the firmware's build
// "; clock=before-build (times are not a date)"; "" when not known (an
// import).
func clockComment(e *index.Call) string {
	switch {
	case slices.Contains(e.Flags, index.FlagClockBeforeBuild):
		return "; clock=before-build (the times are not a date)"
	case e.ClockSynced == nil:
		return ""
	case *e.ClockSynced:
		return fmt.Sprintf("; clock=synchronised,error:%.1fms", e.ClockErrorMS)
	}
	return fmt.Sprintf("; clock=not-synchronised,error:%.1fms", e.ClockErrorMS)
}

func partyLabel(user, display string) string {
	if display == "" {
		return user
	}
	return fmt.Sprintf("%s <%s>", display, user)
}
