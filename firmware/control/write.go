package control

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxField is the most runes of a caller or callee WriteCalls prints.
const maxField = 32

// WriteStatus writes s for a person (`spanrec status`): version and
// uptime, each interface with its link state, packets and drops, the
// counters, and the storage's free space in human units.
func WriteStatus(w io.Writer, s Status) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "spanrec %s, up %s", Printable(s.Version), Uptime(s.UptimeS))
	if !s.Started.IsZero() {
		fmt.Fprintf(ew, " (since %s)", s.Started.Format("2006-01-02 15:04:05 MST"))
	}
	fmt.Fprintln(ew)
	fmt.Fprintln(ew)

	if len(s.Interfaces) == 0 {
		fmt.Fprintln(ew, "interfaces: none")
	} else {
		nw := len("interface")
		for _, i := range s.Interfaces {
			nw = max(nw, utf8.RuneCountInString(Printable(i.Name)))
		}
		const row = "%-*s  %-4s  %12v  %10v  %12v  %10v\n"
		fmt.Fprintf(ew, row, nw, "interface", "link", "packets", "bytes", "kernel drops", "user drops")
		for _, i := range s.Interfaces {
			link := "up"
			if !i.LinkUp {
				link = "DOWN"
			}
			fmt.Fprintf(ew, row, nw, Printable(i.Name), link, i.Packets, Bytes(i.Bytes), i.KernelDrops, i.UserDrops)
		}
	}
	fmt.Fprintln(ew)

	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "frames\t%d\n", s.Frames)
	fmt.Fprintf(tw, "SIP messages\t%d\n", s.SIPMessages)
	fmt.Fprintf(tw, "RTP packets\t%d\n", s.RTPPackets)
	fmt.Fprintf(tw, "active calls\t%d\n", s.ActiveCalls)
	fmt.Fprintf(tw, "calls seen\t%d\n", s.CallsSeen)
	fmt.Fprintf(tw, "recordings written\t%d\n", s.RecordingsWritten)
	if s.RawMediaWritten > 0 {
		fmt.Fprintf(tw, "raw media written\t%d (%d calls as raw media only: no audio decoded)\n", s.RawMediaWritten, s.RawOnlyWritten)
	}
	if s.SIPOverTLS > 0 {
		fmt.Fprintf(tw, "SIP over TLS\t%d segments: calls not readable; %d seen by their media only, kept raw\n", s.SIPOverTLS, s.OpaqueCalls)
	}
	fmt.Fprintf(tw, "evicted calls\t%d\n", s.Evicted)
	fmt.Fprintf(tw, "malformed input\t%d\n", s.Malformed)
	for _, c := range s.Skipped {
		fmt.Fprintf(tw, "frames skipped\t%d %s\n", c.N, Printable(c.Reason))
	}
	for _, c := range s.Refused {
		fmt.Fprintf(tw, "refused\t%d %s\n", c.N, Printable(c.Reason))
	}
	for _, c := range s.Limits {
		fmt.Fprintf(tw, "limit reached\t%d %s\n", c.N, Printable(c.Reason))
	}
	st := s.Storage
	switch {
	case st.TotalBytes == 0:
		fmt.Fprintf(tw, "storage\tunknown (%s)\n", Printable(st.Path))
	default:
		pct := float64(st.FreeBytes) / float64(st.TotalBytes) * 100
		fmt.Fprintf(tw, "storage\t%s free of %s (%.0f%%) on %s\n", Bytes(st.FreeBytes), Bytes(st.TotalBytes), pct, Printable(st.Path))
	}
	if a := s.Anchor; a != nil {
		fmt.Fprintf(tw, "last anchor\t%s: chain entries 1..%d, head %.16s, %s\n",
			a.Time.UTC().Format("2006-01-02 15:04:05 MST"), a.Seq, Printable(a.Head), Printable(a.Remote))
	} else {
		fmt.Fprintf(tw, "last anchor\tnone (the chain head is anchored on the share at each offload run)\n")
	}
	if c := s.Clock; c != nil {
		switch {
		case c.Error != "":
			fmt.Fprintf(tw, "clock\tstate unknown: %s\n", Printable(c.Error))
		case c.BeforeBuild:
			fmt.Fprintf(tw, "clock\tnot set (before the firmware's build, %s)\n", c.BuildTime.UTC().Format("2006-01-02"))
		case !c.Synced:
			fmt.Fprintf(tw, "clock\tnot synchronised (estimated error %.1f ms)\n", c.EstErrorMS)
		default:
			fmt.Fprintf(tw, "clock\tsynchronised (estimated error %.3f ms)\n", c.EstErrorMS)
		}
	}
	if q := s.Quality; q != nil {
		fmt.Fprintf(tw, "call quality\t%s\n", qualityLine(q))
	}
	if w := s.Web; w != nil {
		fmt.Fprintf(tw, "web\thttps on %s, certificate SHA-256 %s\n", Printable(w.Listen), Printable(w.Fingerprint))
	}
	if len(s.Faults) == 0 {
		fmt.Fprintf(tw, "faults\tnone\n")
	}
	for _, f := range s.Faults {
		fmt.Fprintf(tw, "FAULT\t%s\n", Printable(f))
	}
	tw.Flush()
	return ew.err
}

// qualityLine says how many recordings were scored and found poor, and
// the last one's MOS.
func qualityLine(q *Quality) string {
	if q.Scored == 0 {
		return fmt.Sprintf("no recording scored yet (poor-quality below MOS %.2f)", q.PoorMOS)
	}
	line := fmt.Sprintf("%d recordings scored, %d poor-quality (MOS below %.2f); last %s MOS %.2f",
		q.Scored, q.Poor, q.PoorMOS, Printable(q.Last), q.LastMOS)
	if q.LastPoor {
		line += " POOR"
	}
	return line
}

// WriteCalls writes calls as a table for a person, oldest first; "no
// active calls" when there are none. SIP-supplied text (caller, callee)
// is stripped of control characters and shortened.
func WriteCalls(w io.Writer, calls []Call) error {
	ew := &errWriter{w: w}
	if len(calls) == 0 {
		fmt.Fprintln(ew, "no active calls")
		return ew.err
	}
	sorted := slices.Clone(calls)
	slices.SortStableFunc(sorted, func(a, b Call) int { return a.Start.Compare(b.Start) })
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tSTART\tDURATION\tCALLER\tCALLEE\tCODEC\tFLAGS")
	for _, c := range sorted {
		start := "-"
		if !c.Start.IsZero() {
			start = c.Start.Format("2006-01-02 15:04:05")
		}
		var flags []string
		if c.Paused {
			flags = append(flags, "paused")
		}
		if c.OnHold {
			flags = append(flags, "on-hold")
		}
		if len(flags) == 0 {
			flags = []string{"-"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			dash(Printable(c.ID)), dash(Printable(c.State)), start, Clock(c.DurationS),
			dash(short(Printable(c.Caller))), dash(short(Printable(c.Callee))), dash(Printable(c.Codec)), strings.Join(flags, ","))
	}
	tw.Flush()
	if len(calls) == 1 {
		fmt.Fprintln(ew, "1 active call")
	} else {
		fmt.Fprintf(ew, "%d active calls\n", len(calls))
	}
	return ew.err
}

// Bytes formats n in IEC units: "512 B", "1.5 KiB", "12.3 GiB".
func Bytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n) / unit
	i := 0
	for v >= unit && i < len(units)-1 {
		v /= unit
		i++
	}
	if v >= 1023.95 && i < len(units)-1 { // would print as 1024.0
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// Uptime formats seconds as "42s", "12m 5s", "4h 12m" or "3d 4h 12m".
func Uptime(seconds float64) string {
	if math.IsNaN(seconds) || seconds < 0 {
		seconds = 0
	}
	if seconds > float64(math.MaxInt64/int64(time.Second)) {
		seconds = float64(math.MaxInt64 / int64(time.Second))
	}
	s := int64(seconds)
	d, h, m := s/86400, s/3600%24, s/60%60
	s %= 60
	switch {
	case d > 0:
		return fmt.Sprintf("%dd %dh %dm", d, h, m)
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm %ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// Clock formats seconds as "m:ss" or "h:mm:ss".
func Clock(seconds float64) string {
	if math.IsNaN(seconds) || seconds < 0 {
		seconds = 0
	}
	if seconds > 1e12 {
		seconds = 1e12
	}
	s := int64(seconds)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Printable replaces control characters, format characters and invalid
// UTF-8 (which could drive a terminal or hide text) with '?'; tabs too,
// which would break the tables. Everything the appliance prints of what it
// saw on the wire goes through it: the status tables here, the console.
func Printable(s string) string {
	if !strings.ContainsFunc(s, badRune) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if badRune(r) {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func badRune(r rune) bool {
	return r == utf8.RuneError || (!unicode.IsPrint(r) && r != ' ')
}

// short cuts s to maxField runes.
func short(s string) string {
	if utf8.RuneCountInString(s) <= maxField {
		return s
	}
	r := []rune(s)
	return string(r[:maxField-1]) + "…"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// errWriter remembers the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}
