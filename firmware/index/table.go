package index

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode"
)

// WriteTable writes calls as aligned columns for people: ID, START (UTC
// "2006-01-02 15:04:05"), CALLER, CALLEE, DUR (e.g. "8.0s", "-" when
// unanswered), CODEC, MOS (the worse direction's estimated MOS, "poor"
// after it when flagged poor-quality; "-" when not scored), REC (yes; raw when the file is raw media, not
// audio; no) and REASON/FILE (the file when recorded, else the reason). Control and format characters (and invalid
// UTF-8) from the network are shown as '?', empty cells as "-". A warning
// line under the table names what each raw media entry holds.
func WriteTable(w io.Writer, calls []*Call) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	if _, err := io.WriteString(tw, "ID\tSTART\tCALLER\tCALLEE\tDUR\tCODEC\tMOS\tREC\tREASON/FILE\n"); err != nil {
		return fmt.Errorf("index: write table: %w", err)
	}
	for _, c := range calls {
		start, dur, mos, rec, what := "-", "-", "-", "no", c.Reason
		if !c.Start.IsZero() {
			start = c.Start.UTC().Format("2006-01-02 15:04:05")
		}
		if !c.Answer.IsZero() {
			dur = fmt.Sprintf("%.1fs", c.DurationS)
		}
		if c.MOS > 0 {
			mos = fmt.Sprintf("%.2f", c.MOS)
			if slices.Contains(c.Flags, FlagPoorQuality) {
				mos += " poor"
			}
		}
		if c.Recorded {
			rec, what = "yes", c.File
			if c.Raw() {
				rec = "raw"
			}
			if c.Incomplete {
				what += " (incomplete)"
			}
		}
		_, err := fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			cell(c.ID), start, cell(c.Caller), cell(c.Callee), dur, cell(c.Codec), mos, rec, cell(what))
		if err != nil {
			return fmt.Errorf("index: write table: %w", err)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("index: write table: %w", err)
	}
	for _, c := range calls {
		if c.Recorded && c.Raw() {
			if _, err := fmt.Fprintf(w, "warning: %s: %s\n", cell(c.ID), cell(c.RawWarning())); err != nil {
				return fmt.Errorf("index: write table: %w", err)
			}
		}
	}
	return nil
}

// cell makes s safe for one table cell on a terminal.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r == unicode.ReplacementChar || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return '?'
		}
		return r
	}, s)
}

// WriteJSONLines writes calls for scripts: one JSON object per line, in
// the form of Call.MarshalJSON.
func WriteJSONLines(w io.Writer, calls []*Call) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, c := range calls {
		if err := enc.Encode(c); err != nil {
			return fmt.Errorf("index: write json lines: %w", err)
		}
	}
	return nil
}
