package engine

import "spanrec/firmware/calls"

// Limit is how many things a resource budget dropped, for one reason.
type Limit struct {
	Reason string
	N      uint64
}

// Limits lists what the resource budgets dropped, by reason (call table
// and SIP budget, SDP limits, TCP reassembly, open files): the one list
// for status and the import summary. Empty when no budget was reached.
func (s Summary) Limits() []Limit {
	var out []Limit
	add := func(n uint64, reason string) {
		if n > 0 {
			out = append(out, Limit{Reason: reason, N: n})
		}
	}
	for _, r := range s.Calls.Rejected.List() {
		if r.Reason.Budget() {
			add(r.N, r.Reason.String())
		}
	}
	add(s.TCP.LongHeader, "SIP-over-TCP headers that never ended, dropped at the per-stream cap")
	add(s.TCP.OverBudget, "SIP-over-TCP streams dropped at the reassembly budget, least recently active first")
	add(s.TCP.Evicted, "SIP-over-TCP streams dropped at the stream limit")
	add(s.Recorder.FilesReleased, "recordings whose files were released for another call at the open-file budget")
	return out
}

// Refused lists the tracker's refusals that are not budget hits (those
// are in Limits).
func (s Summary) Refused() []calls.Count {
	var out []calls.Count
	for _, r := range s.Calls.Rejected.List() {
		if !r.Reason.Budget() {
			out = append(out, r)
		}
	}
	return out
}

// LimitsReached totals Limits, for the fault that says a budget was hit.
func (s Summary) LimitsReached() uint64 {
	var n uint64
	for _, l := range s.Limits() {
		n += l.N
	}
	return n
}
