package remotelog

import (
	"bytes"
	"context"
	"log/slog"
	"time"
)

// handler passes records to a text handler that writes each line to a
// lineWriter, which turns it into a syslog message.
type handler struct {
	s     *Sender
	level slog.Leveler
	inner slog.Handler
}

func (h *handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	return h.inner.Handle(ctx, r)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &handler{s: h.s, level: h.level, inner: h.inner.WithAttrs(as)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{s: h.s, level: h.level, inner: h.inner.WithGroup(name)}
}

// keepTimeLevel writes the record's time in a form lineWriter reads
// back exactly (the time and level come first in every line).
func keepTimeLevel(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey && a.Value.Kind() == slog.KindTime {
		return slog.String(slog.TimeKey, a.Value.Time().UTC().Format(time.RFC3339Nano))
	}
	return a
}

// lineWriter receives one text line per record ("time=T level=L msg=...
// attrs"): the time and level go into the syslog header, the rest is
// the message. The text handler calls Write once per record.
type lineWriter struct{ s *Sender }

func (w lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	line := bytes.TrimRight(p, "\n")
	t := time.Now()
	if rest, ok := bytes.CutPrefix(line, []byte("time=")); ok {
		v, after, _ := bytes.Cut(rest, []byte(" "))
		if pt, err := time.Parse(time.RFC3339Nano, string(v)); err == nil {
			t = pt
		}
		line = after
	}
	sev := sevInfo
	if rest, ok := bytes.CutPrefix(line, []byte("level=")); ok {
		v, after, _ := bytes.Cut(rest, []byte(" "))
		var l slog.Level
		if l.UnmarshalText(v) == nil {
			sev = severity(l)
		}
		line = after
	}
	w.s.enqueue(w.s.format(t, sev, bytes.Clone(line)))
	return n, nil
}

// Tee returns a handler that passes each record to both a and b (the
// daemon's usual log and the remote copy).
func Tee(a, b slog.Handler) slog.Handler { return tee{a, b} }

type tee struct{ a, b slog.Handler }

func (t tee) Enabled(ctx context.Context, l slog.Level) bool {
	return t.a.Enabled(ctx, l) || t.b.Enabled(ctx, l)
}

func (t tee) Handle(ctx context.Context, r slog.Record) error {
	var errA, errB error
	if t.a.Enabled(ctx, r.Level) {
		errA = t.a.Handle(ctx, r.Clone())
	}
	if t.b.Enabled(ctx, r.Level) {
		errB = t.b.Handle(ctx, r)
	}
	if errA != nil {
		return errA
	}
	return errB
}

func (t tee) WithAttrs(as []slog.Attr) slog.Handler {
	return tee{t.a.WithAttrs(as), t.b.WithAttrs(as)}
}

func (t tee) WithGroup(name string) slog.Handler {
	return tee{t.a.WithGroup(name), t.b.WithGroup(name)}
}
