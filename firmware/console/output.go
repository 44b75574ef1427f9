package console

import (
	"io"
)

// termWriter writes to the serial line: every "\n" not already preceded
// by "\r" goes out as "\r\n". It remembers the first write error.
type termWriter struct {
	w    io.Writer
	last byte
	err  error
	buf  []byte
}

func (t *termWriter) Write(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	t.buf = t.buf[:0]
	for _, c := range p {
		if c == '\n' && t.last != '\r' {
			t.buf = append(t.buf, '\r')
		}
		t.buf = append(t.buf, c)
		t.last = c
	}
	if _, err := t.w.Write(t.buf); err != nil {
		t.err = err
		return 0, err
	}
	return len(p), nil
}

// WriteString writes s.
func (t *termWriter) WriteString(s string) (int, error) { return t.Write([]byte(s)) }

// dash is s, or "-" when empty.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
