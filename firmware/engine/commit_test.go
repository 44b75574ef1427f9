package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"spanrec/firmware/index"
)

// TestChainFollowsCallEnds: calls ending one after another are finished
// side by side (a finisher per core) and committed in groups, yet the hash
// chain lists them in the order they ended, whichever finisher was
// faster, and every file is signed and chained.
func TestChainFollowsCallEnds(t *testing.T) {
	const n = 24
	data := t.TempDir()
	cs := fullCalls(t, n, 0, time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	capture, _ := writeCapture(t, scenario{calls: cs})
	e, err := Open(Options{DataDir: data})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close("test-ended")
	if err := e.ImportFile(context.Background(), capture); err != nil {
		t.Fatal(err)
	}
	e.Drain()
	byID := map[string]string{}
	if err := e.Index.List(func(c *index.Call) error { byID[c.ID] = c.Callee; return nil }); err != nil {
		t.Fatal(err)
	}
	var order []string
	if err := e.Index.Chain(func(ce *index.ChainEntry) error { order = append(order, byID[ce.ID]); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(order) != n {
		t.Fatalf("%d chain entries, want %d", len(order), n)
	}
	for i, callee := range order {
		if want := fmt.Sprint(2000 + i); callee != want {
			t.Fatalf("chain order %v: entry %d is call %s, want %s (the calls ended in number order)", order, i+1, callee, want)
		}
	}
	verifyOpenIndex(t, e.Index, data)
}
