package daemon

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

func TestLogRing(t *testing.T) {
	var next bytes.Buffer
	ring, h := NewLogRing(3, slog.NewTextHandler(&next, &slog.HandlerOptions{Level: slog.LevelDebug}))
	log := slog.New(h).With("component", "test")
	if got := ring.Tail(10); len(got) != 0 {
		t.Fatalf("empty ring: %q", got)
	}
	log.Debug("debug line") // below the ring's level, but next gets it
	for i := range 5 {
		log.Info("line", "n", i)
	}
	log.WithGroup("g").Warn("grouped", "k", "v")
	got := ring.Tail(0)
	if len(got) != 3 || !strings.Contains(got[0], "msg=line") || !strings.Contains(got[0], "n=3") ||
		!strings.Contains(got[2], "level=WARN msg=grouped component=test g.k=v") {
		t.Fatalf("tail: %q", got)
	}
	if last := ring.Tail(1); len(last) != 1 || last[0] != got[2] {
		t.Fatalf("tail 1: %q", last)
	}
	if !strings.Contains(next.String(), "debug line") || strings.Count(next.String(), "\n") != 7 {
		t.Fatalf("next handler got:\n%s", next.String())
	}
}

func TestLogRingConcurrent(t *testing.T) {
	ring, h := NewLogRing(500, nil)
	log := slog.New(h)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				log.Info("x", "g", g, "i", i)
			}
		}()
	}
	wg.Wait()
	lines := ring.Tail(0)
	if len(lines) != 500 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "time=") || strings.Contains(l, "\n") {
			t.Fatalf("torn line %q", l)
		}
	}
}
