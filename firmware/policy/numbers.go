package policy

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// numKind is the kind of a number pattern.
type numKind uint8

const (
	numExact numKind = iota
	numRange
	numPrefix
)

// numPattern is one parsed entry of a number list: an exact number, a range
// of equal-length digit strings or a prefix.
type numPattern struct {
	kind   numKind
	lo, hi string // exact: lo; range: lo..hi; prefix: lo
	span   float64
}

// parseNumber parses an exact number, a range "1000-1099" or a prefix
// ending in "*".
func parseNumber(s string) (numPattern, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return numPattern{}, fmt.Errorf("%w: empty", ErrBadNumber)
	}
	if strings.ContainsAny(s, " \t;@:/") {
		return numPattern{}, fmt.Errorf("%w: %q", ErrBadNumber, s)
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok && allDigits(lo) && lo != "" {
		if !allDigits(hi) || hi == "" || strings.Contains(hi, "-") {
			return numPattern{}, fmt.Errorf("%w: %q: bounds must be digits", ErrBadRange, s)
		}
		if len(lo) != len(hi) {
			return numPattern{}, fmt.Errorf("%w: %q: bounds differ in length", ErrBadRange, s)
		}
		if lo > hi {
			return numPattern{}, fmt.Errorf("%w: %q: lower bound above upper bound", ErrBadRange, s)
		}
		return numPattern{kind: numRange, lo: lo, hi: hi, span: rangeSpan(lo, hi)}, nil
	}
	if p, ok := strings.CutSuffix(s, "*"); ok {
		// "*" alone is every number; "*97" (star first only) is exact,
		// "12*" and "*80*" are prefixes.
		return numPattern{kind: numPrefix, lo: p, span: math.Pow(10, 30-float64(len(p)))}, nil
	}
	return numPattern{kind: numExact, lo: s, span: 1}, nil
}

// rangeSpan is the number of numbers in lo..hi (saturating).
func rangeSpan(lo, hi string) float64 {
	a, err1 := strconv.ParseFloat(lo, 64)
	b, err2 := strconv.ParseFloat(hi, 64)
	if err1 != nil || err2 != nil {
		return math.MaxFloat64 / 2
	}
	return b - a + 1
}

// match reports whether the number n matches the pattern.
func (p numPattern) match(n string) bool {
	switch p.kind {
	case numExact:
		return n == p.lo
	case numRange:
		return len(n) == len(p.lo) && allDigits(n) && n >= p.lo && n <= p.hi
	default:
		return strings.HasPrefix(n, p.lo)
	}
}

// String gives the pattern back in its configuration syntax.
func (p numPattern) String() string {
	switch p.kind {
	case numRange:
		return p.lo + "-" + p.hi
	case numPrefix:
		return p.lo + "*"
	default:
		return p.lo
	}
}

// numSet is a parsed list of number patterns.
type numSet []numPattern

// match reports whether any pattern matches n.
func (s numSet) match(n string) bool {
	if n == "" {
		return false
	}
	for _, p := range s {
		if p.match(n) {
			return true
		}
	}
	return false
}

// overlaps reports whether some number could match both a and b (for
// validation only; prefixes are compared conservatively).
func overlaps(a, b numPattern) bool {
	switch {
	case a.kind == numExact:
		return b.match(a.lo)
	case b.kind == numExact:
		return a.match(b.lo)
	case a.kind == numRange && b.kind == numRange:
		return len(a.lo) == len(b.lo) && a.lo <= b.hi && b.lo <= a.hi
	case a.kind == numPrefix && b.kind == numPrefix:
		return strings.HasPrefix(a.lo, b.lo) || strings.HasPrefix(b.lo, a.lo)
	case a.kind == numPrefix:
		return prefixMeetsRange(a.lo, b)
	default:
		return prefixMeetsRange(b.lo, a)
	}
}

// prefixMeetsRange reports whether some number of the range r starts with
// prefix.
func prefixMeetsRange(prefix string, r numPattern) bool {
	if len(prefix) >= len(r.lo) {
		return r.match(prefix)
	}
	if !allDigits(prefix) {
		return false
	}
	lo := prefix + strings.Repeat("0", len(r.lo)-len(prefix))
	hi := prefix + strings.Repeat("9", len(r.lo)-len(prefix))
	return lo <= r.hi && r.lo <= hi
}

// allDigits reports whether s consists of ASCII digits only.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cleanNumber returns the number part of a SIP user: without URI
// parameters and surrounding space.
func cleanNumber(n string) string {
	n, _, _ = strings.Cut(n, ";")
	return strings.TrimSpace(n)
}

// shortNumber is the heuristic for a local extension when none is
// configured: 1 to 6 characters of digits, '*' and '#', not starting with
// "00".
func shortNumber(n string) bool {
	if n == "" || len(n) > 6 || strings.HasPrefix(n, "00") {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if (c < '0' || c > '9') && c != '*' && c != '#' {
			return false
		}
	}
	return true
}
