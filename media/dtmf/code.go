package dtmf

import "time"

// CodeMatcher recognises a feature code (e.g. "*1") in a stream of digits.
// Digits further apart than Gap break the sequence.
type CodeMatcher struct {
	code  string
	gap   time.Duration
	got   int
	first time.Time
	last  time.Time
}

// NewCodeMatcher returns a matcher for code; gap defaults to 3 s.
func NewCodeMatcher(code string, gap time.Duration) *CodeMatcher {
	if gap <= 0 {
		gap = 3 * time.Second
	}
	return &CodeMatcher{code: code, gap: gap}
}

// Digit feeds one digit pressed at t. It reports whether the digit
// completed the code, and when the code's first digit was pressed.
func (m *CodeMatcher) Digit(d byte, t time.Time) (complete bool, start time.Time) {
	if m.code == "" {
		return false, time.Time{}
	}
	if m.got > 0 && t.Sub(m.last) > m.gap {
		m.got = 0
	}
	if d != m.code[m.got] {
		m.got = 0
		if d != m.code[0] {
			return false, time.Time{}
		}
	}
	if m.got == 0 {
		m.first = t
	}
	m.got++
	m.last = t
	if m.got == len(m.code) {
		m.got = 0
		return true, m.first
	}
	return false, time.Time{}
}

// Pending reports whether some digits of the code have been seen (the
// digits are withheld from the recording until the sequence resolves).
func (m *CodeMatcher) Pending() bool { return m.got > 0 }

// Since returns when the first digit of a code being dialled was pressed,
// and false when no code is pending.
func (m *CodeMatcher) Since() (time.Time, bool) { return m.first, m.got > 0 }

// Gap returns how far apart the digits of a code may be.
func (m *CodeMatcher) Gap() time.Duration { return m.gap }
