package archive

import (
	"strings"
	"testing"

	"spanrec/firmware/anchor"
	"spanrec/firmware/index"
)

// chainOf builds n anchored recording entries with correct hashes.
func chainOf(n int) map[uint64]anchor.Entry {
	out := map[uint64]anchor.Entry{}
	prev := ""
	for i := 1; i <= n; i++ {
		e := anchor.Entry{Seq: uint64(i), ID: "id" + string(rune('a'+i)), File: "recordings/2026/11/25/x.wav",
			SHA256: strings.Repeat("ab", 32)}
		e.Hash = index.EntryHash(prev, e.ID, e.File, e.SHA256)
		prev = e.Hash
		out[e.Seq] = e
	}
	return out
}

func TestCheckChain(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(map[uint64]anchor.Entry)
		says string
	}{
		{"intact", func(map[uint64]anchor.Entry) {}, ""},
		{"anchor missing", func(m map[uint64]anchor.Entry) { delete(m, 2); delete(m, 3) }, "entries 2..3 are in no anchor"},
		{"first missing", func(m map[uint64]anchor.Entry) { delete(m, 1) }, "entries 1..1 are in no anchor"},
		{"entry changed", func(m map[uint64]anchor.Entry) {
			e := m[3]
			e.SHA256 = strings.Repeat("cd", 32)
			m[3] = e
		}, "entry 3 (idd): its hash does not follow"},
		{"deletion skipped", func(m map[uint64]anchor.Entry) {
			e := m[2]
			e.ID += index.DeletedSuffix
			m[2] = e
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := chainOf(4)
			tc.edit(m)
			ch := &Checked{Appliance: &Appliance{Prefix: "p"}}
			checkChain(ch, m)
			if tc.says == "" {
				if len(ch.Problems) != 0 {
					t.Fatalf("problems: %v", ch.Problems)
				}
				return
			}
			if len(ch.Problems) != 1 || !strings.Contains(ch.Problems[0].What, tc.says) {
				t.Fatalf("problems %v, want one saying %q", ch.Problems, tc.says)
			}
		})
	}
	if id, ok := recordingID("2026/11/25/x-raw.rtp.pcapng"); !ok || id != "x-raw" {
		t.Errorf("recordingID of raw media: %q %v", id, ok)
	}
	if _, ok := recordingID("2026/11/25/x.json"); ok {
		t.Error("a manifest taken for a recording")
	}
}
