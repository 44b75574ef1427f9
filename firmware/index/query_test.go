package index

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestSearch(t *testing.T) {
	f := newChain(t)
	c, err := f.ix.Get(f.ids[3])
	if err != nil {
		t.Fatal(err)
	}
	c.Quarantined = true
	if err := f.ix.Put(c); err != nil {
		t.Fatal(err)
	}
	ids := func(q Query) string {
		t.Helper()
		got, err := f.ix.Search(q)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, c := range got {
			s = append(s, c.ID[len(c.ID)-1:])
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		q    Query
		want string
	}{
		{Query{}, "4,2,1,0"},                    // newest first, recorded only, no quarantined
		{Query{Quarantined: true}, "4,3,2,1,0"}, // an admin's
		{Query{Limit: 2}, "4,2"},                // the newest
		{Query{All: true, Limit: 2}, "9,4"},     // with calls not recorded
		{Query{Text: f.ids[1][len(f.ids[1])-4:]}, "1"},
		{Query{Text: f.ids[3][len(f.ids[3])-4:]}, ""},
	} {
		if got := ids(tc.q); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.q, got, tc.want)
		}
	}
}

func TestVerifyRecording(t *testing.T) {
	f := newChain(t)
	ctx := context.Background()
	var checked []string
	sig := func(p string) error { checked = append(checked, p); return nil }
	probs, n, err := f.ix.VerifyRecording(ctx, f.data, f.ids[1], sig)
	if err != nil || len(probs) != 0 || n != 1 || len(checked) != 1 || checked[0] != f.file(1) {
		t.Fatalf("clean: %v %d %v (checked %v)", probs, n, err, checked)
	}
	os.WriteFile(f.file(1), []byte("changed"), 0o644)
	if probs, _, _ = f.ix.VerifyRecording(ctx, f.data, f.ids[1], nil); len(probs) != 1 || !strings.HasPrefix(probs[0], "hash mismatch") {
		t.Fatalf("changed file: %v", probs)
	}
	os.Remove(f.file(1))
	if probs, _, _ = f.ix.VerifyRecording(ctx, f.data, f.ids[1], nil); len(probs) != 1 || !strings.HasPrefix(probs[0], "missing") {
		t.Fatalf("deleted file: %v", probs)
	}
	if _, _, err := f.ix.VerifyRecording(ctx, f.data, "20261125T150000Z-00000009", nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("not recorded: %v", err)
	}
	if _, _, err := f.ix.VerifyRecording(ctx, f.data, "nope", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	// The chain entry itself: its hash, and the index agreeing with it.
	f.tamperEntry(t, 3, func(e *ChainEntry) { e.Hash = strings.Repeat("0", 64) })
	if probs, _, _ = f.ix.VerifyRecording(ctx, f.data, f.ids[2], nil); len(probs) != 1 || !strings.HasPrefix(probs[0], "chain entry modified: seq 3") {
		t.Fatalf("entry modified: %v", probs)
	}
	f.tamperEntry(t, 4, func(e *ChainEntry) { e.SHA256 = strings.Repeat("0", 64); e.Hash = e.ComputeHash(e.Prev) })
	if probs, _, _ = f.ix.VerifyRecording(ctx, f.data, f.ids[3], nil); len(probs) != 2 || !strings.HasPrefix(probs[0], "index differs from chain") || !strings.HasPrefix(probs[1], "hash mismatch") {
		t.Fatalf("entry rehashed: %v", probs)
	}
	problems, n, err := f.ix.VerifyAll(ctx, f.data, nil, true)
	if err != nil || n != 4 || !strings.Contains(strings.Join(problems, "\n"), "missing") {
		t.Fatalf("all: %v %d %v", problems, n, err)
	}
	// A viewer who may not see quarantined recordings learns that one
	// failed, not which.
	c, err := f.ix.Get(f.ids[1])
	if err != nil {
		t.Fatal(err)
	}
	c.Quarantined = true
	if err := f.ix.Put(c); err != nil {
		t.Fatal(err)
	}
	withheld, _, err := f.ix.VerifyAll(ctx, f.data, nil, false)
	all := strings.Join(withheld, "\n")
	if err != nil || len(withheld) != len(problems) || strings.Contains(all, f.ids[1]) || !strings.Contains(all, "(a quarantined recording) -: missing") {
		t.Fatalf("all, quarantine withheld: %v %v", withheld, err)
	}
	if shown, _, _ := f.ix.VerifyAll(ctx, f.data, nil, true); !strings.Contains(strings.Join(shown, "\n"), f.ids[1]) {
		t.Fatalf("all, quarantine shown: %v", shown)
	}
}
