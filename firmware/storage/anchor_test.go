package storage_test

// Tamper evidence against someone who can write the data partition (issue
// 12, part 3). Each attack is carried out the way a root attacker on the
// box would: through the index's own API or bbolt directly, with the
// appliance's own key, so that `verify --all` alone finds nothing — it
// passed on the code before anchors for every one of them — and only the
// anchors offloaded to the share show it.

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"spanrec/firmware/anchor"
	"spanrec/firmware/datadir"
	"spanrec/firmware/engine"
	"spanrec/firmware/index"
	"spanrec/firmware/keys"
	"spanrec/firmware/offload"
	"spanrec/firmware/storage"
	"spanrec/media/sign"
	"spanrec/media/wav"
)

// offloadRun offloads the data directory's pending recordings to tg once
// (deleting them locally when del) and returns the run's report.
func offloadRun(t *testing.T, r *recorded, tg target, del bool) offload.Report {
	t.Helper()
	ix := openIndex(t, r.dir)
	defer ix.Close()
	m := storage.New(storage.Config{DataDir: r.dir, MinFreeBytes: -1}, ix, testLog(t))
	rep, err := offloader(t, tg, storage.NewOffloadSource(r.dir, ix, m), del).RunOnce(context.Background())
	if err != nil {
		t.Fatalf("offload: %v", err)
	}
	return rep
}

// verify is `spanrec verify --all`, with --anchor share when share != "".
func verify(t *testing.T, r *recorded, share string) engine.VerifyReport {
	t.Helper()
	rep, err := engine.Verify(context.Background(), r.dir, r.pub, engine.VerifyOptions{AnchorDir: share})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

func problems(rep engine.VerifyReport) string {
	var b strings.Builder
	for _, p := range rep.Problems {
		b.WriteString("\n  INVALID: " + p.String())
	}
	return b.String()
}

// clean fails unless verify found nothing.
func clean(t *testing.T, rep engine.VerifyReport, when string) {
	t.Helper()
	if len(rep.Problems) > 0 {
		t.Fatalf("%s: verify --all found:%s", when, problems(rep))
	}
}

// detected fails unless some problem has every one of the words.
func detected(t *testing.T, rep engine.VerifyReport, words ...string) index.Problem {
	t.Helper()
	for _, p := range rep.Problems {
		s, all := p.String(), true
		for _, w := range words {
			all = all && strings.Contains(s, w)
		}
		if all {
			t.Logf("detected: %s", s)
			return p
		}
	}
	t.Fatalf("no problem says %q; verify found:%s", words, problems(rep))
	return index.Problem{}
}

// rebuildIndex is the attacker's rebuild: a new index.db holding every
// call of the old one but those drop refuses, each recording chained
// afresh in the old chain's order after edit (may be nil) has changed it.
func rebuildIndex(t *testing.T, dir string, drop func(*index.Call) bool, edit func(*index.Call)) {
	t.Helper()
	path := datadir.Layout(dir).Index()
	ix, err := index.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]*index.Call{}
	var order []string
	if err := ix.List(func(c *index.Call) error { calls[c.ID] = c; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := ix.Chain(func(e *index.ChainEntry) error {
		if !strings.HasSuffix(e.ID, index.DeletedSuffix) {
			order = append(order, e.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if ix, err = index.Open(path); err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	chained := map[string]bool{}
	for _, id := range order {
		c := calls[id]
		chained[id] = true
		if drop(c) {
			continue
		}
		if edit != nil {
			edit(c)
		}
		if err := ix.AddRecording(c); err != nil {
			t.Fatal(err)
		}
	}
	for id, c := range calls {
		if !chained[id] && !drop(c) {
			if err := ix.Put(c); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// offloadedBox records the calls and offloads them (kept locally) to tg:
// the anchor on the share covers all three entries.
func offloadedBox(t *testing.T, tg target) *recorded {
	t.Helper()
	r := recordCalls(t)
	if rep := offloadRun(t, r, tg, false); rep.Copied != 3 || rep.Anchor == "" {
		t.Fatalf("offload: %+v", rep)
	}
	clean(t, verify(t, r, tg.share), "honest box with --anchor")
	return r
}

// TestAttackDeletionEntryWithoutProof: (a) the attacker removes a WAV and
// appends a correctly hashed deletion entry of the form spanrec wrote
// before deletion proofs. verify --all now says the deletion has no proof.
func TestAttackDeletionEntryWithoutProof(t *testing.T) {
	tg := dirTarget(t)
	r := offloadedBox(t, tg)
	victim := r.only
	if err := os.Remove(r.local(victim.File)); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(datadir.Layout(r.dir).Index(), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		head := tx.Bucket([]byte("meta")).Get([]byte("\x00chain-head"))
		seq := binary.BigEndian.Uint64(head[:8]) + 1
		e := index.ChainEntry{Seq: seq, ID: victim.ID + index.DeletedSuffix, File: victim.File, SHA256: victim.SHA256,
			Prev: string(head[8:]), Time: time.Now().UTC()}
		e.Hash = index.EntryHash(e.Prev, e.ID, e.File, e.SHA256)
		v, _ := json.Marshal(&e)
		key := binary.BigEndian.AppendUint64(nil, seq)
		c := *victim
		c.Deleted, c.DeleteReason = time.Now(), "offloaded: deleted locally after a verified copy"
		cv, _ := json.Marshal(&c)
		for _, put := range [][3][]byte{
			{[]byte("chain"), key, v},
			{[]byte("chainids"), []byte(e.ID), key},
			{[]byte("meta"), []byte("\x00chain-head"), append(key, e.Hash...)},
			{[]byte("calls"), []byte(c.ID), cv},
		} {
			if err := tx.Bucket(put[0]).Put(put[1], put[2]); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	detected(t, verify(t, r, ""), victim.ID, "deletion without proof")
}

// TestAttackDeletionWithForgedProof: (a) again, by an attacker who knows
// the proof format: the call is marked offloaded to the share and deleted
// with a well-formed proof, through the index's own API. Only the share
// shows the lie: no copy lies where the proof says (the recording never
// was offloaded: the attacker removed it before the run).
func TestAttackDeletionWithForgedProof(t *testing.T) {
	tg := dirTarget(t)
	r := recordCalls(t)
	victim := r.only
	hidden, err := os.ReadFile(r.local(victim.File))
	if err != nil {
		t.Fatal(err)
	}
	// The fax call is offloaded and anchored; the G.729 call is deleted
	// by the attacker before it ever reaches the share.
	ix := openIndex(t, r.dir)
	src := &holdBack{OffloadSource: storage.NewOffloadSource(r.dir, ix, nil), id: victim.ID}
	if rep, err := offloader(t, tg, src, false).RunOnce(context.Background()); err != nil || rep.Anchor == "" {
		t.Fatalf("offload: %+v %v", rep, err)
	}
	remote := "file://" + filepath.ToSlash(tg.share) + "/" + victim.File
	at := time.Now()
	if err := ix.MarkOffloaded(victim.ID, remote, at); err != nil {
		t.Fatal(err)
	}
	c, _ := ix.Get(victim.ID)
	if err := ix.MarkDeleted(victim.ID, index.OffloadProof(c, "offloaded: deleted locally after a verified copy"), at); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	os.Remove(r.local(victim.File))
	clean(t, verify(t, r, ""), "forged proof, without --anchor")
	detected(t, verify(t, r, tg.share), victim.ID, "deletion proof", "the share has no")
	// The same recording, had it been offloaded, verifies clean.
	if err := os.MkdirAll(filepath.Dir(filepath.Join(tg.share, victim.File)), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tg.share, victim.File), hidden, 0o640); err != nil {
		t.Fatal(err)
	}
	clean(t, verify(t, r, tg.share), "the copy the proof names is on the share")
}

// TestAttackDropCallAndRebuildChain: (b) the attacker drops the first
// call (its WAV and raw media) and rebuilds the whole chain: verify --all
// is clean, the anchor names the rewritten entry.
func TestAttackDropCallAndRebuildChain(t *testing.T) {
	tg := dirTarget(t)
	r := offloadedBox(t, tg)
	for _, c := range []*index.Call{r.wav, r.raw} {
		if err := os.Remove(r.local(c.File)); err != nil {
			t.Fatal(err)
		}
	}
	rebuildIndex(t, r.dir, func(c *index.Call) bool { return c.ID == r.wav.ID || c.ID == r.raw.ID }, nil)
	clean(t, verify(t, r, ""), "chain rebuilt without the call, without --anchor")
	rep := verify(t, r, tg.share)
	p := detected(t, rep, "anchor mismatch", "anchors/", "entries 1..3", "entry 1 was "+r.wav.ID)
	if p.ID != r.wav.ID {
		t.Errorf("the problem names %q, not the dropped call %s", p.ID, r.wav.ID)
	}
}

// TestAttackSilenceAndResign: (c) the attacker silences the callee side
// of the WAV, re-signs it with the appliance's own key (it lies on the
// box) and rebuilds the chain with the new hash: every signature is
// valid and the chain intact, but the anchored file hash is not the file.
func TestAttackSilenceAndResign(t *testing.T) {
	tg := dirTarget(t)
	r := offloadedBox(t, tg)
	priv, _, err := keys.LoadOrCreate(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	path := r.local(r.wav.File)
	sum, size := silenceAndResign(t, path, priv)
	rebuildIndex(t, r.dir, func(*index.Call) bool { return false }, func(c *index.Call) {
		if c.ID == r.wav.ID {
			c.SHA256, c.Size = sum, size
		}
	})
	if err := sign.VerifyFile(path, r.pub); err != nil {
		t.Fatalf("the re-signed file does not verify: %v", err)
	}
	clean(t, verify(t, r, ""), "silenced and re-signed, without --anchor")
	p := detected(t, verify(t, r, tg.share), "anchor mismatch", "entry 1 ("+r.wav.ID+")", "re-signed")
	if p.File != r.wav.File {
		t.Errorf("the problem names file %q, not %s", p.File, r.wav.File)
	}
}

// silenceAndResign zeroes the callee (right) channel of the signed WAV at
// path, signs it again with priv and returns its new hash and size.
func silenceAndResign(t *testing.T, path string, priv []byte) (string, int64) {
	t.Helper()
	p, err := wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var data, last wav.Chunk
	for _, c := range p.Chunks {
		if c.ID == "data" {
			data = c
		}
		last = c
	}
	if last.ID != sign.ChunkID || data.Size == 0 {
		t.Fatalf("chunks %+v", p.Chunks)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	body := b[data.Offset+8 : data.Offset+8+data.Size]
	silenced := 0
	for i := 2; i+1 < len(body); i += 4 {
		if body[i] != 0 || body[i+1] != 0 {
			silenced++
		}
		body[i], body[i+1] = 0, 0
	}
	if silenced == 0 {
		t.Fatal("the callee side was silent already")
	}
	b = b[:last.Offset]
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, n, err := sign.Append(f, priv)
	if err != nil {
		t.Fatal(err)
	}
	return hexString(s[:]), n
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// TestHonestOperationVerifiesAgainstAnchors: offload with deletion after
// the copy, retention of offloaded recordings and an admin delete each
// chain a deletion with its proof; each offload run anchors the head
// (the last with nothing left to copy, for the deletions since); verify
// --all --anchor finds nothing, on a directory share and on a real sshd.
func TestHonestOperationVerifiesAgainstAnchors(t *testing.T) {
	for _, tc := range []struct {
		name string
		new  func(t *testing.T) target
	}{{"dir", dirTarget}, {"sftp", sftpTarget}} {
		t.Run(tc.name, func(t *testing.T) {
			tg := tc.new(t)
			r := recordCalls(t)
			// First run: the fax call (WAV and raw media) goes, deleted
			// locally after its verified copy; the G.729 call is kept
			// back (retention deletes it later).
			ix := openIndex(t, r.dir)
			m := storage.New(storage.Config{DataDir: r.dir, MinFreeBytes: -1}, ix, testLog(t))
			src := &holdBack{OffloadSource: storage.NewOffloadSource(r.dir, ix, m), id: r.only.ID}
			rep, err := offloader(t, tg, src, true).RunOnce(context.Background())
			if err != nil || rep.Copied != 2 || rep.Anchor == "" {
				t.Fatalf("first run: %+v %v", rep, err)
			}
			ix.Close()
			if r.exists(r.wav) || r.exists(r.raw) {
				t.Fatal("the fax call was not deleted after its copy")
			}
			first := verify(t, r, tg.share)
			clean(t, first, "after offload with deletion")
			if first.Anchors.Last.Seq != 5 || first.Anchors.Local != 5 {
				t.Fatalf("the anchor covers %d of %d entries, want the 3 recordings and 2 deletions", first.Anchors.Last.Seq, first.Anchors.Local)
			}

			// The second run offloads the G.729 call, kept locally: the
			// chain is as anchored, no anchor is written. Retention then
			// deletes it, as offloaded.
			rep = offloadRun(t, r, tg, false)
			if rep.Copied != 1 || rep.Anchor != "" {
				t.Fatalf("second run: %+v", rep)
			}
			ix = openIndex(t, r.dir)
			aged := storage.New(storage.Config{DataDir: r.dir, MaxAge: time.Hour, MinFreeBytes: -1}, ix, testLog(t))
			del, err := aged.RunOnce(time.Now())
			if err != nil || len(del.Deleted) != 1 || del.Deleted[0] != r.only.ID {
				t.Fatalf("retention: %+v %v", del, err)
			}
			ix.Close()
			clean(t, verify(t, r, tg.share), "after retention, before its deletion is anchored")
			// A run with nothing to copy anchors the retention's deletion.
			rep = offloadRun(t, r, tg, false)
			if rep.Copied != 0 || rep.Anchor == "" {
				t.Fatalf("third run: %+v", rep)
			}
			last := verify(t, r, tg.share)
			clean(t, last, "after retention, anchored")
			if last.Anchors.Anchors != 2 || last.Anchors.Last.Seq != 6 || last.Anchors.Local != 6 {
				t.Fatalf("anchors %+v", last.Anchors)
			}
			// And a run with nothing new writes no anchor.
			if rep = offloadRun(t, r, tg, false); rep.Anchor != "" {
				t.Fatalf("a run with the head anchored already wrote %s", rep.Anchor)
			}
		})
	}
}

// holdBack is an OffloadSource that leaves one recording out of Pending.
type holdBack struct {
	*storage.OffloadSource
	id string
}

func (h *holdBack) Pending(ctx context.Context) ([]offload.Item, error) {
	items, err := h.OffloadSource.Pending(ctx)
	out := items[:0]
	for _, it := range items {
		if it.ID != h.id {
			out = append(out, it)
		}
	}
	return out, err
}

// TestAdminDeleteVerifies: an admin deletes a recording that was never
// offloaded (and its raw media with it): the audit log and the chain say
// who, verify --all --anchor is clean once the deletion is anchored; the
// audit entry forged away or altered is reported.
func TestAdminDeleteVerifies(t *testing.T) {
	tg := dirTarget(t)
	r := recordCalls(t)
	ix := openIndex(t, r.dir)
	m := storage.New(storage.Config{DataDir: r.dir, MinFreeBytes: -1}, ix, testLog(t))
	if err := m.AdminDelete(r.wav.ID, "console:alice", time.Now()); err != nil {
		t.Fatal(err)
	}
	audit, err := ix.AuditTail(0)
	if err != nil || len(audit) != 2 || audit[0].User != "console:alice" || audit[0].Command != index.AdminDeleteCommand(r.wav.ID) {
		t.Fatalf("audit log %+v %v", audit, err)
	}
	ix.Close()
	if r.exists(r.wav) || r.exists(r.raw) {
		t.Fatal("the WAV and its raw media are not both deleted")
	}
	if rep := offloadRun(t, r, tg, false); rep.Copied != 1 || rep.Anchor == "" {
		t.Fatalf("offload: %+v", rep)
	}
	clean(t, verify(t, r, tg.share), "after an admin delete")

	// The attacker rewrites the audit entry's user: the deletion no longer
	// has its audit record.
	db, err := bolt.Open(datadir.Layout(r.dir).Index(), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("audit"))
		k := binary.BigEndian.AppendUint64(nil, 1)
		var e index.AuditEntry
		json.Unmarshal(b.Get(k), &e)
		e.User = "console:bob"
		e.Hash = index.AuditHash(e.Prev, e.Seq, e.Time, e.User, e.Command, e.Result)
		v, _ := json.Marshal(&e)
		return b.Put(k, v)
	})
	db.Close()
	detected(t, verify(t, r, ""), r.wav.ID, "deletion proof", "audit log entry 1")
}

// TestAnchorsOnTheShareAreSigned: a malformed anchor file and one signed
// by another key are reported by name, not trusted, and do not stop the
// check of the valid ones.
func TestAnchorsOnTheShareAreSigned(t *testing.T) {
	tg := dirTarget(t)
	r := offloadedBox(t, tg)
	names, _ := filepath.Glob(filepath.Join(tg.share, anchor.Dir, "*.json"))
	sort.Strings(names)
	if len(names) != 1 {
		t.Fatalf("anchors %v", names)
	}
	b, _ := os.ReadFile(names[0])
	os.WriteFile(filepath.Join(tg.share, anchor.Dir, "20260101T000000Z-000000000001.json"), b[:len(b)/2], 0o640)
	other := t.TempDir()
	otherPriv, _, err := keys.LoadOrCreate(other)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := anchor.Parse(b, r.pub)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := anchor.Sign(rec, otherPriv)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(tg.share, anchor.Dir, "20260101T000000Z-000000000002.json"), forged, 0o640)
	rep := verify(t, r, tg.share)
	detected(t, rep, "anchors/20260101T000000Z-000000000001.json", "anchor unreadable", "not a valid anchor file")
	detected(t, rep, "anchors/20260101T000000Z-000000000002.json", "anchor unreadable", "signed by another key")
	if len(rep.Problems) != 2 || rep.Anchors.Anchors != 1 {
		t.Fatalf("anchors %d, problems:%s", rep.Anchors.Anchors, problems(rep))
	}
}
