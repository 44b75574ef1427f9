package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
)

// maxLogLine bounds one line kept by a LogRing.
const maxLogLine = 2048

// LogRing keeps the last lines a logger wrote, for `log tail`. It is safe
// for concurrent use.
type LogRing struct {
	mu    sync.Mutex
	lines []string
	next  int
	full  bool
}

// NewLogRing returns a ring of the last n lines (n < 1 means 500) and a
// slog.Handler that writes every record at level Info or above into the
// ring as a text line (time, level, message, attributes) and passes every
// record to next as well (next may be nil). Use the handler as the
// daemon's logger: slog.New(h).
func NewLogRing(n int, next slog.Handler) (*LogRing, slog.Handler) {
	if n < 1 {
		n = 500
	}
	r := &LogRing{lines: make([]string, n)}
	text := slog.NewTextHandler(r, &slog.HandlerOptions{Level: slog.LevelInfo})
	return r, teeHandler{ring: text, next: next}
}

// Write stores p (one record from a text handler) as one or more lines.
func (r *LogRing) Write(p []byte) (int, error) {
	n := len(p)
	p = bytes.TrimRight(p, "\n")
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, line := range bytes.Split(p, []byte{'\n'}) {
		if len(line) > maxLogLine {
			line = line[:maxLogLine]
		}
		r.lines[r.next] = string(line)
		r.next++
		if r.next == len(r.lines) {
			r.next, r.full = 0, true
		}
	}
	return n, nil
}

// Tail returns the last n lines (all kept when n <= 0), oldest first.
func (r *LogRing) Tail(n int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	have := r.next
	if r.full {
		have = len(r.lines)
	}
	if n <= 0 || n > have {
		n = have
	}
	out := make([]string, n)
	for i := range n {
		out[i] = r.lines[(r.next-n+i+len(r.lines))%len(r.lines)]
	}
	return out
}

// teeHandler sends records to the ring's text handler and to next.
type teeHandler struct {
	ring slog.Handler
	next slog.Handler
}

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return t.ring.Enabled(ctx, l) || (t.next != nil && t.next.Enabled(ctx, l))
}

func (t teeHandler) Handle(ctx context.Context, rec slog.Record) error {
	var err error
	if t.ring.Enabled(ctx, rec.Level) {
		err = t.ring.Handle(ctx, rec)
	}
	if t.next != nil && t.next.Enabled(ctx, rec.Level) {
		if e := t.next.Handle(ctx, rec); e != nil {
			err = e
		}
	}
	return err
}

func (t teeHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := teeHandler{ring: t.ring.WithAttrs(attrs)}
	if t.next != nil {
		n.next = t.next.WithAttrs(attrs)
	}
	return n
}

func (t teeHandler) WithGroup(name string) slog.Handler {
	n := teeHandler{ring: t.ring.WithGroup(name)}
	if t.next != nil {
		n.next = t.next.WithGroup(name)
	}
	return n
}
