package index

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzCallJSON feeds arbitrary bytes to Call.UnmarshalJSON: it must not
// panic, and whatever it accepts must marshal and parse back unchanged.
func FuzzCallJSON(f *testing.F) {
	for _, c := range []*Call{fullCall("20261125T144422Z-3fa2c1d0"), unanswered("20261125T144530Z-00000001", t0), {}} {
		b, err := json.Marshal(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"start":"2026-11-25T14:44:22.5+01:00","pauses":null,"answer":null}`))
	f.Add([]byte(`{"pauses":[{"start":null,"end":"2026-01-01T00:00:00Z","source":"button"}]}`))
	f.Add([]byte(`{"start":"9999-12-31T23:59:59-23:59"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Call
		if err := json.Unmarshal(data, &c); err != nil {
			return
		}
		b, err := json.Marshal(&c)
		if err != nil {
			t.Fatalf("accepted %q but cannot marshal it: %v", data, err)
		}
		var back Call
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("cannot parse own output %s: %v", b, err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip of %q:\n got %+v\nwant %+v", data, back, c)
		}
	})
}

func TestVerifyChainCancel(t *testing.T) {
	f := newChain(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.ix.VerifyChainContext(ctx, f.data, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled verify err = %v", err)
	}
}

func BenchmarkCallMarshal(b *testing.B) {
	c := fullCall("20261125T144422Z-3fa2c1d0")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCallUnmarshal(b *testing.B) {
	data, err := json.Marshal(fullCall("20261125T144422Z-3fa2c1d0"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var c Call
		if err := json.Unmarshal(data, &c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAddRecording(b *testing.B) {
	ix, err := Open(b.TempDir() + "/index.db")
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	ix.db.NoSync = true // measure the index, not the disk's fsync
	c := fullCall("")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.ID = NewID(t0) + string(rune('a'+i%26))
		i++
		if err := ix.AddRecording(c); err != nil {
			b.Fatal(err)
		}
	}
}
