package web

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"spanrec/firmware/index"
)

// Search is the recordings page's query.
type Search struct {
	// Text is matched as the console's search (index.Query).
	Text string
	// From and To bound the start: From <= Start < To; zero is open.
	From, To time.Time
	// Direction is "inbound", "outbound", "internal" or "" for any.
	Direction string
	// Rule, Queue and Trunk, when set, must be the entry's
	// (case-insensitively).
	Rule, Queue, Trunk string
	// Flags must each hold (SearchFlags).
	Flags []string
	// Sort is SortStart (the default), SortDuration or SortParties, in
	// ascending order or not (the form's default: newest and longest
	// first, parties A to Z).
	Sort      string
	Ascending bool
	// Offset and Limit select the page.
	Offset, Limit int
	// Quarantined includes quarantined recordings (admins only).
	Quarantined bool
}

// SearchPage is one page of a search.
type SearchPage struct {
	// List is the page.
	List []index.Call
	// Total counts every match.
	Total int
}

// The orders of the recordings page.
const (
	SortStart    = "start"
	SortDuration = "duration"
	SortParties  = "parties"
)

// SearchFlags are the flags the recordings page filters by, with what
// each means.
var SearchFlags = []struct{ Name, Means string }{
	{"one_way", "media seen one way only"},
	{"raw", "raw media (not decoded)"},
	{"encrypted", "encrypted, not decrypted"},
	{"quarantined", "quarantined (admins only)"},
	{"incomplete", "misses part of the call"},
	{"paused", "paused at some point"},
	{"split", "a part of a split call"},
	{"offloaded", "copied to the offload target"},
	{"fax", "T.38 fax"},
	{"foreign-media", "foreign media kept out"},
	{"forked", "forked call"},
	{"clock-before-build", "times before the clock was set"},
}

// HasFlag reports whether c has the search flag name.
func HasFlag(c *index.Call, name string) bool {
	switch name {
	case "one_way":
		return c.OneWay
	case "raw":
		return c.Raw()
	case "encrypted":
		return slices.ContainsFunc(c.Flags, func(f string) bool { return strings.HasPrefix(f, "encrypted") })
	case "quarantined":
		return c.Quarantined
	case "incomplete":
		return c.Incomplete
	case "paused":
		return len(c.Pauses) > 0
	case "split":
		return c.Part > 0
	case "offloaded":
		return !c.Offloaded.IsZero()
	}
	return slices.Contains(c.Flags, name)
}

// Matches reports whether recording c is one q asks for.
func (q *Search) Matches(c *index.Call) bool {
	switch {
	case !c.Recorded, c.Quarantined && !q.Quarantined,
		!q.From.IsZero() && c.Start.Before(q.From), !q.To.IsZero() && !c.Start.Before(q.To),
		q.Direction != "" && c.Direction != q.Direction,
		q.Rule != "" && !strings.EqualFold(c.Rule, q.Rule),
		q.Queue != "" && !strings.EqualFold(c.Queue, q.Queue),
		q.Trunk != "" && !strings.EqualFold(c.Trunk, q.Trunk),
		!(index.Query{Text: q.Text, Quarantined: true}).Matches(c):
		return false
	}
	for _, f := range q.Flags {
		if !HasFlag(c, f) {
			return false
		}
	}
	return true
}

// Compare orders two matches as q asks: negative when a comes first.
// Ties go by ID, newest first, so the order is total.
func (q *Search) Compare(a, b *index.Call) int {
	var r int
	switch q.Sort {
	case SortDuration:
		r = cmp.Compare(a.DurationS, b.DurationS)
	case SortParties:
		r = cmp.Or(cmp.Compare(a.Caller, b.Caller), cmp.Compare(a.Callee, b.Callee))
	default:
		r = a.Start.Compare(b.Start)
	}
	if !q.Ascending {
		r = -r
	}
	return cmp.Or(r, -cmp.Compare(a.ID, b.ID))
}

// maxField bounds each text field of the search form.
const maxField = 256

// parseSearch reads the recordings page's form: q, from and to (dates,
// UTC, both days included), direction, rule, queue, trunk, flag (any
// number), sort, order (asc or desc) and page.
func parseSearch(v url.Values) (Search, int, error) {
	var q Search
	for name, p := range map[string]*string{"q": &q.Text, "direction": &q.Direction, "rule": &q.Rule, "queue": &q.Queue, "trunk": &q.Trunk, "sort": &q.Sort} {
		*p = strings.TrimSpace(v.Get(name))
		if len(*p) > maxField {
			return q, 0, fmt.Errorf("%s: longer than %d bytes", name, maxField)
		}
	}
	switch q.Direction {
	case "", "inbound", "outbound", "internal":
	default:
		return q, 0, fmt.Errorf("direction: %q is not inbound, outbound or internal", q.Direction)
	}
	switch q.Sort {
	case "":
		q.Sort = SortStart
	case SortStart, SortDuration, SortParties:
	default:
		return q, 0, fmt.Errorf("sort: %q is not start, duration or parties", q.Sort)
	}
	switch o := v.Get("order"); o {
	case "":
		q.Ascending = q.Sort == SortParties
	case "asc", "desc":
		q.Ascending = o == "asc"
	default:
		return q, 0, fmt.Errorf("order: %q is not asc or desc", o)
	}
	for name, p := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		s := v.Get(name)
		if s == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return q, 0, fmt.Errorf("%s: %q is not a date YYYY-MM-DD", name, s)
		}
		if name == "to" {
			t = t.AddDate(0, 0, 1)
		}
		*p = t
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, 0, fmt.Errorf("from %s is after to %s", v.Get("from"), v.Get("to"))
	}
	flags := v["flag"]
	if len(flags) > len(SearchFlags) {
		return q, 0, fmt.Errorf("flag: %d flags", len(flags))
	}
	for _, f := range flags {
		if !slices.ContainsFunc(SearchFlags, func(k struct{ Name, Means string }) bool { return k.Name == f }) {
			return q, 0, fmt.Errorf("flag: %q is not a flag", f)
		}
		if !slices.Contains(q.Flags, f) {
			q.Flags = append(q.Flags, f)
		}
	}
	pg := 0
	if s := v.Get("page"); s != "" {
		var err error
		if pg, err = strconv.Atoi(s); err != nil || pg < 0 || pg >= maxPage {
			return q, 0, fmt.Errorf("page must be 0 to %d", maxPage-1)
		}
	}
	q.Offset, q.Limit = pg*PageSize, PageSize
	return q, pg, nil
}

// Order returns the order form value of q: "asc" or "desc".
func (q *Search) Order() string {
	if q.Ascending {
		return "asc"
	}
	return "desc"
}
