package index

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var t0 = time.Date(2026, 11, 25, 14, 44, 22, 0, time.UTC)

func openTest(t *testing.T) (*Index, string) {
	t.Helper()
	dir := t.TempDir()
	ix, err := Open(filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	return ix, dir
}

func unanswered(id string, start time.Time) *Call {
	return &Call{
		ID: id, CallID: "a84b4c76e66710@pc33", Caller: "1001", Callee: "2002", Dialed: "2002",
		Start: start, Codec: "PCMA", Reason: "no-answer", EndReason: "cancel", Status: 487,
	}
}

func TestPutGetListOrder(t *testing.T) {
	ix, _ := openTest(t)
	ids := []string{
		"20261125T144422Z-00000002",
		"20261125T144422Z-00000001",
		"20261124T080000Z-ffffffff",
		"20261125T150000Z-00000000",
	}
	for i, id := range ids {
		if err := ix.Put(unanswered(id, t0.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	// Update one in place.
	upd := unanswered(ids[1], t0)
	upd.Caller = "+4930123456"
	if err := ix.Put(upd); err != nil {
		t.Fatal(err)
	}
	got, err := ix.Get(ids[1])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, upd) {
		t.Fatalf("Get = %+v, want %+v", got, upd)
	}
	if _, err := ix.Get("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(missing) err = %v, want ErrNotFound", err)
	}
	var order []string
	if err := ix.List(func(c *Call) error { order = append(order, c.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []string{ids[2], ids[1], ids[0], ids[3]}
	if !reflect.DeepEqual(order, want) {
		t.Fatalf("List order %v, want %v", order, want)
	}
	n, err := ix.Count()
	if err != nil || n != 4 {
		t.Fatalf("Count = %d, %v; want 4", n, err)
	}
	stop := errors.New("stop")
	calls := 0
	if err := ix.List(func(*Call) error { calls++; return stop }); err != stop || calls != 1 {
		t.Fatalf("List with stopping fn: err %v after %d calls", err, calls)
	}
	if err := ix.Put(&Call{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Put without ID err = %v", err)
	}
}

func TestNewID(t *testing.T) {
	a, b := NewID(t0.In(time.FixedZone("CET", 3600))), NewID(t0)
	if !strings.HasPrefix(a, "20261125T144422Z-") || len(a) != len("20261125T144422Z-3fa2c1d0") {
		t.Fatalf("NewID = %q", a)
	}
	if a == b {
		t.Fatalf("two NewID in the same second collided: %q", a)
	}
	if NewID(t0.Add(-time.Second)) >= a {
		t.Fatal("IDs do not sort by time")
	}
}

func TestUnansweredJSON(t *testing.T) {
	c := unanswered("20261125T144422Z-3fa2c1d0", t0.Add(123456789*time.Nanosecond))
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"answer":null`, `"end":null`, `"pauses":[]`, `"start":"2026-11-25T14:44:22.123456789Z"`, `"duration_s":0`, `"recorded":false`, `"reason":"no-answer"`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s: %s", want, s)
		}
	}
	for _, absent := range []string{`"streams"`, `"flags"`, `"caller_name"`, `"part"`} {
		if strings.Contains(s, absent) {
			t.Errorf("JSON has omitempty field %s: %s", absent, s)
		}
	}
	var back Call
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, c) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, *c)
	}
	// A value (not pointer) marshals the same way.
	b2, err := json.Marshal(*c)
	if err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("value marshal differs: %s vs %s (%v)", b2, b, err)
	}
}

func fullCall(id string) *Call {
	return &Call{
		ID: id, CallID: "3848276298220188511@atlanta.example.com",
		Caller: "1001", CallerName: "Alice", Callee: "2002", CalleeName: "Bob", Dialed: "02002",
		Direction: "outbound",
		Start:     t0, Answer: t0.Add(2500 * time.Millisecond), End: t0.Add(10500 * time.Millisecond),
		DurationS: 8, Codec: "PCMU", Recorded: true, EndReason: "bye", Rule: "all", Status: 200,
		File:   "recordings/2026/11/25/" + id + ".wav",
		SHA256: strings.Repeat("ab", 32), Size: 128044,
		Pauses: []Pause{
			{Start: t0.Add(3 * time.Second), End: t0.Add(5 * time.Second), Source: "dtmf"},
			{Start: t0.Add(9 * time.Second), Source: "console:jane"},
		},
		OneWay: true, SilentSide: "callee", Incomplete: true, Part: 2, Transport: "udp",
		CallerAddr: "192.0.2.10:40000", CalleeAddr: "[2001:db8::1]:50000",
		Streams: []StreamStats{{Side: "caller", Source: "192.0.2.10:40000", Packets: 400, Lost: 2, Duplicates: 1, Late: 3, SSRCChanges: 1,
			Quality: &Quality{MOS: 4.32, R: 89.6, Codec: "PCMU", Expected: 402, LossPercent: 0.5, MaxLostRun: 2, MaxGapMS: 60, JitterMeanMS: 1.2, JitterMaxMS: 3.4, OutOfOrder: 1, BurstR: 1.1, DelayMS: 46.8}}},
		MOS:   4.32,
		Flags: []string{"reinvite"},
	}
}

func TestRecordedJSON(t *testing.T) {
	c := fullCall("20261125T144422Z-3fa2c1d0")
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]time.Time{"start": c.Start, "answer": c.Answer, "end": c.End} {
		s, ok := m[k].(string)
		if !ok {
			t.Fatalf("%s = %#v, want a string", k, m[k])
		}
		got, err := time.Parse(time.RFC3339, s)
		if err != nil || !got.Equal(want) || !strings.HasSuffix(s, "Z") {
			t.Errorf("%s = %q (%v), want RFC 3339 UTC of %v", k, s, err, want)
		}
	}
	if d, ok := m["duration_s"].(float64); !ok || d != 8 {
		t.Errorf("duration_s = %#v, want number 8", m["duration_s"])
	}
	if m["answer"] != "2026-11-25T14:44:24.5Z" {
		t.Errorf("answer = %v", m["answer"])
	}
	p := m["pauses"].([]any)
	if len(p) != 2 || p[1].(map[string]any)["end"] != nil || p[0].(map[string]any)["source"] != "dtmf" {
		t.Errorf("pauses = %#v", p)
	}
	st := m["streams"].([]any)[0].(map[string]any)
	if st["ssrc_changes"] != 1.0 || st["packets"] != 400.0 {
		t.Errorf("streams = %#v", st)
	}
	for _, k := range []string{"id", "call_id", "caller", "caller_name", "callee", "callee_name", "dialed", "direction",
		"codec", "recorded", "reason", "end_reason", "rule", "status", "file", "sha256", "size", "one_way",
		"silent_side", "incomplete", "part", "transport", "caller_media", "callee_media", "flags", "mos"} {
		if _, ok := m[k]; !ok {
			t.Errorf("key %q missing from %s", k, b)
		}
	}
	if q := st["quality"].(map[string]any); q["jitter_max_ms"] != 3.4 || q["mos"] != 4.32 {
		t.Errorf("stream quality = %#v", q)
	}
	if len(m) != 32 {
		t.Errorf("JSON has %d keys, want 32: %s", len(m), b)
	}
	var back Call
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, c) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, *c)
	}
	// Non-UTC input comes back as the same instant in UTC.
	c.Start = c.Start.In(time.FixedZone("X", -5*3600))
	b, _ = json.Marshal(c)
	if !strings.Contains(string(b), `"start":"2026-11-25T14:44:22Z"`) {
		t.Errorf("non-UTC start not written in UTC: %s", b)
	}
}

func TestJSONRejects(t *testing.T) {
	for _, in := range []string{
		`{"start":"yesterday"}`,
		`{"answer":12}`,
		`{"end":"2026-11-25 14:44:22"}`,
		`{"pauses":[{"start":"x"}]}`,
		`{"start":"0000-01-01T00:30:00+01:00"}`,
	} {
		var c Call
		if err := json.Unmarshal([]byte(in), &c); err == nil {
			t.Errorf("Unmarshal(%s) succeeded: %+v", in, c)
		}
	}
	if _, err := json.Marshal(&Call{Start: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); !errors.Is(err, ErrInvalid) {
		t.Errorf("year 10000 marshal err = %v", err)
	}
}

// chainFixture is an index with 5 chained recordings whose files exist.
type chainFixture struct {
	ix   *Index
	data string
	ids  []string
}

func (f *chainFixture) file(i int) string {
	return filepath.Join(f.data, "recordings", "2026", "11", "25", f.ids[i]+".wav")
}

func newChain(t *testing.T) *chainFixture {
	t.Helper()
	ix, dir := openTest(t)
	f := &chainFixture{ix: ix, data: dir}
	for i := range 5 {
		id := fmt.Sprintf("20261125T1444%02dZ-0000000%d", 20+i, i)
		f.ids = append(f.ids, id)
		content := bytes.Repeat([]byte(fmt.Sprintf("RIFF recording %d ", i)), 1000+i)
		if err := os.MkdirAll(filepath.Dir(f.file(i)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.file(i), content, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(content)
		c := fullCall(id)
		c.Recorded = false // AddRecording marks it.
		c.SHA256, c.Size = hex.EncodeToString(sum[:]), int64(len(content))
		c.File = path.Join("recordings", "2026", "11", "25", id+".wav")
		if err := ix.AddRecording(c); err != nil {
			t.Fatal(err)
		}
	}
	// Calls never recorded do not need chain entries.
	if err := ix.Put(unanswered("20261125T150000Z-00000009", t0)); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *chainFixture) verify(t *testing.T) []Problem {
	t.Helper()
	probs, err := f.ix.VerifyChain(f.data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Logf("problem: %s", p)
	}
	return probs
}

// hasProblem reports whether probs holds a problem for id starting with what.
func hasProblem(probs []Problem, id, what string) bool {
	for _, p := range probs {
		if p.ID == id && strings.HasPrefix(p.What, what) {
			return true
		}
	}
	return false
}

// tamperEntry rewrites chain entry seq through bbolt directly.
func (f *chainFixture) tamperEntry(t *testing.T, seq uint64, edit func(*ChainEntry)) {
	t.Helper()
	err := f.ix.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketChain)
		var e ChainEntry
		if err := json.Unmarshal(b.Get(seqKey(seq)), &e); err != nil {
			return err
		}
		edit(&e)
		v, err := json.Marshal(&e)
		if err != nil {
			return err
		}
		return b.Put(seqKey(seq), v)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *chainFixture) deleteEntry(t *testing.T, seq uint64) {
	t.Helper()
	if err := f.ix.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketChain).Delete(seqKey(seq)) }); err != nil {
		t.Fatal(err)
	}
}

func TestChainClean(t *testing.T) {
	f := newChain(t)
	var checked []string
	probs, err := f.ix.VerifyChain(f.data, func(p string) error { checked = append(checked, p); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 0 {
		t.Fatalf("clean chain has problems: %v", probs)
	}
	if len(checked) != 5 || checked[2] != f.file(2) {
		t.Fatalf("checkFile called with %v", checked)
	}
	var entries []*ChainEntry
	if err := f.ix.Chain(func(e *ChainEntry) error { entries = append(entries, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 5 {
		t.Fatalf("%d chain entries, want 5", len(entries))
	}
	for i, e := range entries {
		prev := ""
		if i > 0 {
			prev = entries[i-1].Hash
		}
		if e.Seq != uint64(i+1) || e.ID != f.ids[i] || e.Prev != prev || e.Hash != EntryHash(prev, e.ID, e.File, e.SHA256) || e.Time.IsZero() {
			t.Errorf("entry %d = %+v", i, e)
		}
		c, err := f.ix.Get(e.ID)
		if err != nil || !c.Recorded || c.SHA256 != e.SHA256 {
			t.Errorf("call %s = %+v, %v", e.ID, c, err)
		}
	}
	if n, _ := f.ix.Count(); n != 6 {
		t.Errorf("Count = %d, want 6", n)
	}
}

func TestChainMissingFile(t *testing.T) {
	f := newChain(t)
	if err := os.Remove(f.file(1)); err != nil {
		t.Fatal(err)
	}
	probs := f.verify(t)
	if len(probs) != 1 || !hasProblem(probs, f.ids[1], "missing") {
		t.Fatalf("problems %v, want one missing for %s", probs, f.ids[1])
	}
}

func TestChainReplacedFile(t *testing.T) {
	f := newChain(t)
	if err := os.WriteFile(f.file(3), []byte("RIFF forged"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(f.file(0)); err != nil {
		t.Fatal(err)
	}
	probs := f.verify(t)
	if len(probs) != 2 || !hasProblem(probs, f.ids[3], "hash mismatch") || !hasProblem(probs, f.ids[0], "missing") {
		t.Fatalf("problems %v, want hash mismatch for %s and missing for %s", probs, f.ids[3], f.ids[0])
	}
}

func TestChainSignatureCheck(t *testing.T) {
	f := newChain(t)
	errBadSig := errors.New("bad signature")
	probs, err := f.ix.VerifyChain(f.data, func(p string) error {
		if p == f.file(4) {
			return errBadSig
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 1 || !hasProblem(probs, f.ids[4], "signature") || !strings.Contains(probs[0].What, "bad signature") {
		t.Fatalf("problems %v", probs)
	}
}

func TestChainTamperedSHA(t *testing.T) {
	f := newChain(t)
	// Replace a file and point its chain entry at the new hash, as an
	// attacker with write access to the database would.
	forged := []byte("RIFF forged")
	sum := sha256.Sum256(forged)
	if err := os.WriteFile(f.file(2), forged, 0o644); err != nil {
		t.Fatal(err)
	}
	f.tamperEntry(t, 3, func(e *ChainEntry) { e.SHA256 = hex.EncodeToString(sum[:]) })
	probs := f.verify(t)
	if !hasProblem(probs, f.ids[2], "chain entry modified") {
		t.Fatalf("tampered sha not detected: %v", probs)
	}
	if hasProblem(probs, f.ids[2], "hash mismatch") {
		t.Errorf("file matches the tampered entry, no hash mismatch expected")
	}
	if !hasProblem(probs, f.ids[2], "index differs from chain") {
		t.Errorf("call record disagreeing with chain not reported")
	}

	// Recomputing the entry's own hash moves the break to the next link.
	f.tamperEntry(t, 3, func(e *ChainEntry) { e.Hash = EntryHash(e.Prev, e.ID, e.File, e.SHA256) })
	probs = f.verify(t)
	if hasProblem(probs, f.ids[2], "chain entry modified") || !hasProblem(probs, f.ids[3], "chain broken") {
		t.Fatalf("relinked tamper not detected at next entry: %v", probs)
	}
}

func TestChainDeletedEntry(t *testing.T) {
	f := newChain(t)
	f.deleteEntry(t, 2)
	probs := f.verify(t)
	if !hasProblem(probs, f.ids[2], "chain broken") {
		t.Fatalf("deleted middle entry not detected: %v", probs)
	}
	if !hasProblem(probs, f.ids[1], "not in chain") {
		t.Errorf("call of the deleted entry not reported: %v", probs)
	}

	g := newChain(t)
	g.deleteEntry(t, 5)
	probs = g.verify(t)
	if !hasProblem(probs, "", "chain broken") || !hasProblem(probs, g.ids[4], "not in chain") {
		t.Fatalf("deleted last entry not detected: %v", probs)
	}

	h := newChain(t)
	h.deleteEntry(t, 1)
	probs = h.verify(t)
	if !hasProblem(probs, h.ids[1], "chain broken") {
		t.Fatalf("deleted first entry not detected: %v", probs)
	}
}

func TestChainGarbageEntry(t *testing.T) {
	f := newChain(t)
	if err := f.ix.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketChain).Put(seqKey(3), []byte("{garbage")) }); err != nil {
		t.Fatal(err)
	}
	probs := f.verify(t)
	if !hasProblem(probs, "", "chain entry modified") || !hasProblem(probs, f.ids[2], "not in chain") {
		t.Fatalf("garbage entry not detected: %v", probs)
	}
	if err := f.ix.Chain(func(*ChainEntry) error { return nil }); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Chain over garbage err = %v", err)
	}
}

func TestChainUnsafePath(t *testing.T) {
	f := newChain(t)
	f.tamperEntry(t, 1, func(e *ChainEntry) {
		e.File = "../../etc/passwd"
		e.Hash = EntryHash(e.Prev, e.ID, e.File, e.SHA256)
	})
	probs := f.verify(t)
	if !hasProblem(probs, f.ids[0], "unsafe path") {
		t.Fatalf("unsafe path not reported: %v", probs)
	}
}

func TestRecordedCallNotChained(t *testing.T) {
	f := newChain(t)
	c := fullCall("20261125T160000Z-0000000a")
	if err := f.ix.Put(c); err != nil {
		t.Fatal(err)
	}
	running := &Call{ID: "20261125T160100Z-0000000b", Start: t0, Answer: t0, Recorded: true}
	if err := f.ix.Put(running); err != nil {
		t.Fatal(err)
	}
	probs := f.verify(t)
	if len(probs) != 1 || !hasProblem(probs, c.ID, "not in chain") {
		t.Fatalf("problems %v, want one not in chain for %s", probs, c.ID)
	}
}

func TestAddRecordingDuplicate(t *testing.T) {
	f := newChain(t)
	c, err := f.ix.Get(f.ids[1])
	if err != nil {
		t.Fatal(err)
	}
	c.EndReason = "media-timeout"
	if err := f.ix.AddRecording(c); err != nil {
		t.Fatalf("idempotent re-add: %v", err)
	}
	if got, _ := f.ix.Get(c.ID); got.EndReason != "media-timeout" {
		t.Errorf("idempotent re-add did not update the call")
	}
	n := 0
	_ = f.ix.Chain(func(*ChainEntry) error { n++; return nil })
	if n != 5 {
		t.Errorf("re-add appended: %d entries", n)
	}
	d := *c
	d.SHA256 = strings.Repeat("0", 64)
	if err := f.ix.AddRecording(&d); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("different sha err = %v, want ErrDuplicate", err)
	}
	if err := f.ix.Put(&d); !errors.Is(err, ErrSealed) {
		t.Fatalf("Put changing a chained sha err = %v, want ErrSealed", err)
	}
	if err := f.ix.Put(c); err != nil {
		t.Fatalf("Put keeping the chained sha: %v", err)
	}
	if probs := f.verify(t); len(probs) != 0 {
		t.Fatalf("problems after idempotent operations: %v", probs)
	}
}

func TestAddRecordingInvalid(t *testing.T) {
	ix, _ := openTest(t)
	good := strings.Repeat("0f", 32)
	for _, c := range []*Call{
		nil,
		{File: "a.wav", SHA256: good},
		{ID: "x", File: "a.wav"},
		{ID: "x", File: "a.wav", SHA256: strings.ToUpper(good)},
		{ID: "x", File: "../a.wav", SHA256: good},
		{ID: "x", File: "/abs/a.wav", SHA256: good},
		{ID: "x", File: `rec\a.wav`, SHA256: good},
		{ID: "x\x00y", File: "a.wav", SHA256: good},
	} {
		if err := ix.AddRecording(c); !errors.Is(err, ErrInvalid) {
			t.Errorf("AddRecording(%+v) err = %v, want ErrInvalid", c, err)
		}
	}
}

func TestLockAndReopen(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "index.db")
	ix, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.SetMeta("key_fingerprint", "SHA256:abc"); err != nil {
		t.Fatal(err)
	}
	c := fullCall("20261125T144422Z-3fa2c1d0")
	content := []byte("RIFF data")
	sum := sha256.Sum256(content)
	c.SHA256 = hex.EncodeToString(sum[:])
	if err := os.MkdirAll(filepath.Join(dir, "recordings", "2026", "11", "25"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(c.File)), content, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ix.AddRecording(c); err != nil {
		t.Fatal(err)
	}

	second, err := Open(p)
	if err == nil {
		_ = second.Close()
		t.Fatal("second Open succeeded while the first is open")
	}
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("second Open err = %v, want ErrLocked", err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}

	ix, err = Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	got, err := ix.Get(c.ID)
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("after reopen Get = %+v, %v", got, err)
	}
	if v, err := ix.Meta("key_fingerprint"); err != nil || v != "SHA256:abc" {
		t.Fatalf("after reopen Meta = %q, %v", v, err)
	}
	if probs, err := ix.VerifyChain(dir, nil); err != nil || len(probs) != 0 {
		t.Fatalf("after reopen VerifyChain = %v, %v", probs, err)
	}
	// The chain continues from the stored head.
	c2 := fullCall("20261125T144500Z-00000001")
	c2.SHA256 = c.SHA256
	c2.File = c.File
	if err := ix.AddRecording(c2); err != nil {
		t.Fatal(err)
	}
	var last *ChainEntry
	_ = ix.Chain(func(e *ChainEntry) error { last = e; return nil })
	if last.Seq != 2 || last.Prev == "" {
		t.Fatalf("chain after reopen: %+v", last)
	}
}

func TestMeta(t *testing.T) {
	ix, _ := openTest(t)
	if _, err := ix.Meta("absent"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Meta(absent) err = %v", err)
	}
	if err := ix.SetMeta("a", "1"); err != nil {
		t.Fatal(err)
	}
	if err := ix.SetMeta("a", "2"); err != nil {
		t.Fatal(err)
	}
	if v, err := ix.Meta("a"); err != nil || v != "2" {
		t.Fatalf("Meta(a) = %q, %v", v, err)
	}
	for _, k := range []string{"", string(keyChainHead)} {
		if err := ix.SetMeta(k, "x"); !errors.Is(err, ErrInvalid) {
			t.Errorf("SetMeta(%q) err = %v, want ErrInvalid", k, err)
		}
	}
}

func TestWriteTable(t *testing.T) {
	rec := fullCall("20261125T144422Z-3fa2c1d0")
	rec.Incomplete = false
	rec.MOS = 3.05
	rec.Flags = append(rec.Flags, FlagPoorQuality)
	un := unanswered("20261125T144530Z-00000001", t0.Add(68*time.Second))
	un.Caller = "evil\x1b[2J\tname"
	var buf bytes.Buffer
	if err := WriteTable(&buf, []*Call{rec, un}); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"ID                         START                CALLER         CALLEE  DUR   CODEC  MOS        REC  REASON/FILE\n" +
		"20261125T144422Z-3fa2c1d0  2026-11-25 14:44:22  1001           2002    8.0s  PCMU   3.05 poor  yes  recordings/2026/11/25/20261125T144422Z-3fa2c1d0.wav\n" +
		"20261125T144530Z-00000001  2026-11-25 14:45:30  evil?[2J?name  2002    -     PCMA   -          no   no-answer\n"
	if buf.String() != want {
		t.Fatalf("table:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestWriteJSONLines(t *testing.T) {
	calls := []*Call{fullCall("20261125T144422Z-3fa2c1d0"), unanswered("20261125T144530Z-00000001", t0)}
	calls[0].Caller = "<sip&x>"
	var buf bytes.Buffer
	if err := WriteJSONLines(&buf, calls); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], `"caller":"<sip&x>"`) {
		t.Errorf("HTML escaped: %s", lines[0])
	}
	if b, _ := json.Marshal(calls[0]); !strings.Contains(string(b), `"caller":"\u003csip\u0026x\u003e"`) {
		t.Errorf("json.Marshal no longer escapes HTML: %s", b)
	}
	for i, l := range lines {
		var c Call
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&c, calls[i]) {
			t.Errorf("line %d parses to %+v", i, c)
		}
	}
}

func TestAddRecordingsOneTransaction(t *testing.T) {
	ix, err := Open(filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	var cs []*Call
	for i := range 3 {
		c := fullCall(fmt.Sprintf("20261125T144422Z-0000000%d", i))
		c.File = "recordings/2026/11/25/" + c.ID + ".wav"
		c.SHA256 = strings.Repeat(fmt.Sprint(i), 64)
		cs = append(cs, c)
	}
	if err := ix.AddRecordings(cs); err != nil {
		t.Fatal(err)
	}
	var got []string
	prev := ""
	_ = ix.Chain(func(e *ChainEntry) error {
		got = append(got, e.ID)
		if e.Prev != prev || e.Hash != e.ComputeHash(prev) {
			t.Errorf("entry %d: prev %q hash %q, want prev %q and its hash", e.Seq, e.Prev, e.Hash, prev)
		}
		prev = e.Hash
		return nil
	})
	if want := []string{cs[0].ID, cs[1].ID, cs[2].ID}; !slices.Equal(got, want) {
		t.Fatalf("chain %v, want %v (the order given)", got, want)
	}
	for _, c := range cs {
		if s, err := ix.Get(c.ID); err != nil || !s.Recorded {
			t.Errorf("%s: %+v, %v; want it stored and recorded", c.ID, s, err)
		}
	}

	// One refused call: nothing of the batch is stored.
	ok := fullCall("20261125T144422Z-00000010")
	ok.File, ok.SHA256 = "recordings/2026/11/25/ok.wav", strings.Repeat("a", 64)
	dup := *cs[1]
	dup.SHA256 = strings.Repeat("b", 64)
	if err := ix.AddRecordings([]*Call{ok, &dup}); !errors.Is(err, ErrDuplicate) || !strings.Contains(err.Error(), dup.ID) {
		t.Fatalf("batch with a duplicate: err %v, want ErrDuplicate naming %s", err, dup.ID)
	}
	if _, err := ix.Get(ok.ID); err == nil {
		t.Errorf("%s stored although its batch was refused", ok.ID)
	}
	bad := *ok
	bad.SHA256 = "nothex"
	if err := ix.AddRecordings([]*Call{ok, &bad}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("batch with an invalid call: err %v, want ErrInvalid", err)
	}
	if n, _ := ix.Count(); n != 3 {
		t.Errorf("%d calls stored, want the 3 of the first batch", n)
	}
}
