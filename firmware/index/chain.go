package index

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"spanrec/firmware/datadir"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ChainEntry is one link of the recordings hash chain.
type ChainEntry struct {
	// Seq numbers entries from 1 without gaps; it is also the bucket key.
	Seq uint64 `json:"seq"`
	// ID is the call ID of the recording.
	ID string `json:"id"`
	// File is the recording's path relative to the data directory.
	File string `json:"file"`
	// SHA256 is the lowercase hex SHA-256 of the file.
	SHA256 string `json:"sha256"`
	// Prev is the Hash of the previous entry, "" for the first.
	Prev string `json:"prev"`
	// Hash is ComputeHash(Prev): EntryHash(Prev, ID, File, SHA256), with
	// the Proof's fields too when there is one.
	Hash string `json:"hash"`
	// Proof, on a deletion entry (ID ending in DeletedSuffix), says why
	// the file could go: a verified offload, an audited admin delete.
	Proof *DeletionProof `json:"proof,omitempty"`
	// Time is when the entry was appended (not covered by Hash).
	Time time.Time `json:"time"`
}

// Problem is one finding of VerifyChain. What starts with one of the
// stable words "missing", "hash mismatch", "signature", "unreadable",
// "unsafe path", "chain broken", "chain entry modified", "duplicate",
// "not in chain", "index differs from chain", "deletion without proof" or
// "deletion proof", followed by detail.
type Problem struct {
	// ID is the call ID concerned, "" for chain-level problems.
	ID string
	// File is the recording file concerned, if any.
	File string
	// What describes the problem.
	What string
}

// String renders the problem on one line.
func (p Problem) String() string {
	return fmt.Sprintf("%s %s: %s", orDash(p.ID), orDash(p.File), p.What)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// EntryHash returns the hex SHA-256 over prev, id, file and sha256 joined
// by NUL bytes: the Hash of a chain entry. (None of the parts can hold a
// NUL: AddRecording rejects such input.)
func EntryHash(prev, id, file, sha string) string {
	h := sha256.New()
	for i, s := range [...]string{prev, id, file, sha} {
		if i > 0 {
			h.Write([]byte{0})
		}
		io.WriteString(h, s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// validFile reports whether file is a clean, relative, slash-separated
// path that stays inside the data directory.
func validFile(file string) bool {
	return file != "" && !strings.ContainsAny(file, "\x00\\") &&
		filepath.IsLocal(filepath.FromSlash(file))
}

// validSHA reports whether s is 64 lowercase hex digits.
func validSHA(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// chainedEntry returns the chain entry of call id, or nil when it has none.
func chainedEntry(tx *bolt.Tx, id string) (*ChainEntry, error) {
	ids, err := bucket(tx, bucketChainIDs)
	if err != nil {
		return nil, err
	}
	k := ids.Get([]byte(id))
	if k == nil {
		return nil, nil
	}
	chain, err := bucket(tx, bucketChain)
	if err != nil {
		return nil, err
	}
	v := chain.Get(k)
	if v == nil {
		return nil, fmt.Errorf("%w: chain entry %x of call %s missing", ErrCorrupt, k, id)
	}
	var e ChainEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return nil, fmt.Errorf("%w: chain entry %x: %w", ErrCorrupt, k, err)
	}
	return &e, nil
}

// chainHead returns the sequence number and hash of the last chain entry:
// from the stored head, else (head lost) from the last entry, else 0, "".
func chainHead(tx *bolt.Tx) (uint64, string, error) {
	meta, err := bucket(tx, bucketMeta)
	if err != nil {
		return 0, "", err
	}
	if v := meta.Get(keyChainHead); v != nil {
		if len(v) < 8 {
			return 0, "", fmt.Errorf("%w: chain head %q", ErrCorrupt, v)
		}
		return binary.BigEndian.Uint64(v), string(v[8:]), nil
	}
	chain, err := bucket(tx, bucketChain)
	if err != nil {
		return 0, "", err
	}
	k, v := chain.Cursor().Last()
	if k == nil {
		return 0, "", nil
	}
	var e ChainEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return 0, "", fmt.Errorf("%w: last chain entry: %w", ErrCorrupt, err)
	}
	return e.Seq, e.Hash, nil
}

// AddRecording stores c, whose recording file is finished, and appends its
// chain entry, in one transaction. c.File (relative to the data directory,
// slash-separated) and c.SHA256 (lowercase hex) must be set; the stored
// call is marked Recorded. Adding an ID that is already chained is a
// no-op apart from updating the call when File and SHA256 are the same,
// and fails with ErrDuplicate otherwise.
func (ix *Index) AddRecording(c *Call) error {
	v, err := recordingValue(c)
	if err != nil {
		return err
	}
	if err := ix.update(func(tx *bolt.Tx) error { return addRecording(tx, ix, c, v) }); err != nil {
		return fmt.Errorf("index: add recording %s: %w", c.ID, err)
	}
	return nil
}

// AddRecordings is AddRecording for many calls in one transaction (one
// flash commit for every file finished since the last), chained in the
// order given. If any call is refused nothing is stored and the error
// names it; a caller may then add the calls one by one.
func (ix *Index) AddRecordings(cs []*Call) error {
	vals := make([][]byte, len(cs))
	for i, c := range cs {
		v, err := recordingValue(c)
		if err != nil {
			return err
		}
		vals[i] = v
	}
	return ix.update(func(tx *bolt.Tx) error {
		for i, c := range cs {
			if err := addRecording(tx, ix, c, vals[i]); err != nil {
				return fmt.Errorf("index: add recording %s: %w", c.ID, err)
			}
		}
		return nil
	})
}

// recordingValue checks c for AddRecording and returns the call to store.
func recordingValue(c *Call) ([]byte, error) {
	switch {
	case c == nil || c.ID == "":
		return nil, fmt.Errorf("index: add recording: %w: call without ID", ErrInvalid)
	case strings.IndexByte(c.ID, 0) >= 0:
		return nil, fmt.Errorf("index: add recording %q: %w: NUL in ID", c.ID, ErrInvalid)
	case !validFile(c.File):
		return nil, fmt.Errorf("index: add recording %s: %w: file %q must be a local slash-separated path", c.ID, ErrInvalid, c.File)
	case !validSHA(c.SHA256):
		return nil, fmt.Errorf("index: add recording %s: %w: sha256 %q must be 64 lowercase hex digits", c.ID, ErrInvalid, c.SHA256)
	}
	cc := *c
	cc.Recorded = true
	v, err := json.Marshal(&cc)
	if err != nil {
		return nil, fmt.Errorf("index: add recording %s: %w", c.ID, err)
	}
	return v, nil
}

// addRecording stores call c (its value v) and chains it, in tx.
func addRecording(tx *bolt.Tx, ix *Index, c *Call, v []byte) error {
	calls, err := bucket(tx, bucketCalls)
	if err != nil {
		return err
	}
	old, err := chainedEntry(tx, c.ID)
	if err != nil {
		return err
	}
	if old != nil {
		if old.File != c.File || old.SHA256 != c.SHA256 {
			return fmt.Errorf("%w: chain seq %d has file %q sha256 %s", ErrDuplicate, old.Seq, old.File, old.SHA256)
		}
		return calls.Put([]byte(c.ID), v)
	}
	if _, err := ix.appendEntry(tx, &ChainEntry{ID: c.ID, File: c.File, SHA256: c.SHA256}); err != nil {
		return err
	}
	return calls.Put([]byte(c.ID), v)
}

// appendEntry appends e (ID, File, SHA256 and Proof set) after the head,
// setting its Seq, Prev, Hash and Time, and returns it.
func (ix *Index) appendEntry(tx *bolt.Tx, e *ChainEntry) (*ChainEntry, error) {
	seq, prev, err := chainHead(tx)
	if err != nil {
		return nil, err
	}
	seq++
	e.Seq, e.Prev, e.Time = seq, prev, ix.now().UTC()
	e.Hash = e.ComputeHash(prev)
	ev, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	chain, err := bucket(tx, bucketChain)
	if err != nil {
		return nil, err
	}
	key := seqKey(seq)
	if chain.Get(key) != nil {
		return nil, fmt.Errorf("%w: chain entry %d exists beyond the head", ErrCorrupt, seq)
	}
	ids, err := bucket(tx, bucketChainIDs)
	if err != nil {
		return nil, err
	}
	meta, err := bucket(tx, bucketMeta)
	if err != nil {
		return nil, err
	}
	head := append(seqKey(seq), e.Hash...)
	for _, put := range []struct {
		b    *bolt.Bucket
		k, v []byte
	}{
		{chain, key, ev},
		{ids, []byte(e.ID), key},
		{meta, keyChainHead, head},
	} {
		if err := put.b.Put(put.k, put.v); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Chain calls fn for every chain entry in sequence order. An error from fn
// stops the walk and is returned as is. fn runs inside a read
// transaction: it must not write to the index.
func (ix *Index) Chain(fn func(*ChainEntry) error) error {
	return ix.db.View(func(tx *bolt.Tx) error {
		chain, err := bucket(tx, bucketChain)
		if err != nil {
			return fmt.Errorf("index: chain: %w", err)
		}
		cur := chain.Cursor()
		for k, v := cur.First(); k != nil; k, v = cur.Next() {
			e := new(ChainEntry)
			if err := json.Unmarshal(v, e); err != nil {
				return fmt.Errorf("index: chain: entry %x: %w: %w", k, ErrCorrupt, err)
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// VerifyChain is VerifyChainContext without cancellation.
func (ix *Index) VerifyChain(dataDir string, checkFile func(path string) error) ([]Problem, error) {
	return ix.VerifyChainContext(context.Background(), dataDir, checkFile)
}

// rawEntry is a chain bucket record copied out of the read transaction.
type rawEntry struct {
	key []byte
	e   ChainEntry
	err error
}

// recordedCall is what VerifyChain needs of a recorded call.
type recordedCall struct {
	id, file, sha string
	running       bool
}

// VerifyChainContext walks the chain and reports every problem found:
// entries whose Hash does not match their contents ("chain entry
// modified"), links, sequence gaps or a head that do not match ("chain
// broken": entries changed, removed or truncated), recording files that
// are missing, unreadable, or whose SHA-256 differs ("hash mismatch"),
// files checkFile (if non-nil; the caller's signature check, given the
// file's full path) rejects ("signature"), recorded calls with no chain
// entry ("not in chain"; calls still running without a file are skipped)
// and calls whose File or SHA256 differ from their entry. The error is
// non-nil only when the index cannot be read or ctx is done.
func (ix *Index) VerifyChainContext(ctx context.Context, dataDir string, checkFile func(path string) error) ([]Problem, error) {
	var (
		entries       []rawEntry
		calls         []recordedCall
		problems      []Problem
		headSeq       uint64
		headHash      string
		haveHead      bool
		headCorrupted bool
		audits        = map[uint64]AuditEntry{}
	)
	err := ix.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketAudit); b != nil {
			if err := b.ForEach(func(k, v []byte) error {
				var a AuditEntry
				if len(k) == 8 && json.Unmarshal(v, &a) == nil && a.Seq == binary.BigEndian.Uint64(k) {
					audits[a.Seq] = a
				}
				return ctx.Err()
			}); err != nil {
				return err
			}
		}
		chain, err := bucket(tx, bucketChain)
		if err != nil {
			return err
		}
		if err := chain.ForEach(func(k, v []byte) error {
			r := rawEntry{key: append([]byte(nil), k...)}
			r.err = json.Unmarshal(v, &r.e)
			entries = append(entries, r)
			return ctx.Err()
		}); err != nil {
			return err
		}
		meta, err := bucket(tx, bucketMeta)
		if err != nil {
			return err
		}
		if v := meta.Get(keyChainHead); v != nil {
			haveHead = true
			if len(v) < 8 {
				headCorrupted = true
			} else {
				headSeq, headHash = binary.BigEndian.Uint64(v), string(v[8:])
			}
		}
		cb, err := bucket(tx, bucketCalls)
		if err != nil {
			return err
		}
		return cb.ForEach(func(k, v []byte) error {
			var c Call
			if err := json.Unmarshal(v, &c); err != nil {
				problems = append(problems, Problem{ID: string(k), What: fmt.Sprintf("unreadable call record: %v", err)})
				return nil
			}
			if c.Recorded {
				calls = append(calls, recordedCall{
					id: c.ID, file: c.File, sha: c.SHA256,
					running: c.End.IsZero() && c.File == "" && c.SHA256 == "",
				})
			}
			return ctx.Err()
		})
	})
	if err != nil {
		return nil, fmt.Errorf("index: verify chain: %w", err)
	}

	var (
		prevSeq   uint64
		prevHash  string
		prevKnown = true
		seen      = make(map[string]*ChainEntry, len(entries))
		deleted   = make(map[string]bool)
	)
	for i := range entries {
		if id, ok := isDeletion(&entries[i].e); ok && entries[i].err == nil {
			deleted[id] = true
		}
	}
	for i := range entries {
		if err := ctx.Err(); err != nil {
			return problems, fmt.Errorf("index: verify chain: %w", err)
		}
		r := &entries[i]
		if len(r.key) != 8 {
			problems = append(problems, Problem{What: fmt.Sprintf("chain broken: foreign key %x in chain bucket", r.key)})
			continue
		}
		seq := binary.BigEndian.Uint64(r.key)
		if r.err != nil {
			problems = append(problems, Problem{What: fmt.Sprintf("chain entry modified: seq %d unreadable: %v", seq, r.err)})
			prevSeq, prevKnown = seq, false
			continue
		}
		e := &r.e
		pr := func(format string, a ...any) {
			problems = append(problems, Problem{ID: e.ID, File: e.File, What: fmt.Sprintf(format, a...)})
		}
		if e.Seq != seq {
			pr("chain entry modified: stored under seq %d but claims seq %d", seq, e.Seq)
		}
		if h := e.ComputeHash(e.Prev); h != e.Hash {
			pr("chain entry modified: seq %d hash %s does not match its contents (%s)", seq, e.Hash, h)
		}
		switch {
		case seq <= prevSeq:
			pr("chain broken: unexpected seq %d after seq %d", seq, prevSeq)
		case seq > prevSeq+1:
			if seq == prevSeq+2 {
				pr("chain broken: entry %d before seq %d removed", prevSeq+1, seq)
			} else {
				pr("chain broken: entries %d..%d before seq %d removed", prevSeq+1, seq-1, seq)
			}
		case prevKnown && e.Prev != prevHash:
			pr("chain broken: seq %d does not link to the previous entry (prev %q, want %q)", seq, e.Prev, prevHash)
		}
		prevSeq, prevHash, prevKnown = seq, e.Hash, true
		if first, dup := seen[e.ID]; dup {
			pr("duplicate: call already chained at seq %d", first.Seq)
		} else {
			seen[e.ID] = e
		}
		if id, del := isDeletion(e); del {
			if what := checkDeletion(e, seen[id], audits); what != "" {
				pr("%s", what)
			}
			continue
		}
		if deleted[e.ID] {
			continue // the file was deleted, and the deletion is chained
		}
		if what := checkRecording(dataDir, e, checkFile); what != "" {
			pr("%s", what)
		}
	}

	switch {
	case headCorrupted:
		problems = append(problems, Problem{What: "chain broken: stored chain head is unreadable"})
	case !haveHead && len(entries) > 0:
		problems = append(problems, Problem{What: "chain broken: chain head missing"})
	case haveHead && (headSeq != prevSeq || headHash != prevHash):
		problems = append(problems, Problem{What: fmt.Sprintf(
			"chain broken: last entry is seq %d but the chain head is seq %d (entries removed from the end?)", prevSeq, headSeq)})
	}

	for _, c := range calls {
		e, ok := seen[c.id]
		switch {
		case !ok && !c.running:
			problems = append(problems, Problem{ID: c.id, File: c.file, What: "not in chain: recorded call has no chain entry"})
		case ok && (e.File != c.file || e.SHA256 != c.sha):
			problems = append(problems, Problem{ID: c.id, File: c.file, What: fmt.Sprintf(
				"index differs from chain: call has file %q sha256 %s, chain seq %d has file %q sha256 %s",
				c.file, c.sha, e.Seq, e.File, e.SHA256)})
		}
	}
	return problems, nil
}

// checkDeletion checks a deletion entry against the entry of the
// recording it deletes (orig, nil when there is none before it) and its
// proof against the audit log; it returns "" or what is wrong.
func checkDeletion(e, orig *ChainEntry, audits map[uint64]AuditEntry) string {
	id, _ := isDeletion(e)
	switch {
	case orig == nil:
		return fmt.Sprintf("deletion proof: deletes %s, which has no chain entry before it", id)
	case orig.File != e.File || orig.SHA256 != e.SHA256:
		return fmt.Sprintf("deletion proof: names file %q sha256 %s, the recording (seq %d) is %q sha256 %s",
			e.File, e.SHA256, orig.Seq, orig.File, orig.SHA256)
	case e.Proof == nil:
		return "deletion without proof: the entry names no verified offload copy and no audited admin delete (the file may have been removed by hand)"
	}
	if what := e.Proof.check(e.SHA256); what != "" {
		return "deletion proof: " + what
	}
	if e.Proof.Kind == ProofAdmin {
		a, ok := audits[e.Proof.AuditSeq]
		switch {
		case !ok:
			return fmt.Sprintf("deletion proof: admin delete by %s names audit log entry %d, which does not exist", e.Proof.Admin, e.Proof.AuditSeq)
		case a.User != e.Proof.Admin || a.Command != AdminDeleteCommand(id) || a.Result != "ok":
			return fmt.Sprintf("deletion proof: audit log entry %d (%s: %q %s) does not record %s deleting %s",
				a.Seq, a.User, a.Command, a.Result, e.Proof.Admin, id)
		}
	}
	return ""
}

// checkRecording checks one entry's file and returns "" or what is wrong.
func checkRecording(dataDir string, e *ChainEntry, checkFile func(string) error) string {
	if !validFile(e.File) {
		return fmt.Sprintf("unsafe path: %q leaves the data directory", e.File)
	}
	path := datadir.Layout(dataDir).Abs(e.File)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "missing: recording file does not exist"
	}
	if err != nil {
		return fmt.Sprintf("unreadable: %v", err)
	}
	h := sha256.New()
	_, err = io.Copy(h, f)
	_ = f.Close()
	if err != nil {
		return fmt.Sprintf("unreadable: %v", err)
	}
	var msgs []string
	if got := hex.EncodeToString(h.Sum(nil)); got != e.SHA256 {
		msgs = append(msgs, fmt.Sprintf("hash mismatch: file sha256 %s, chain has %s", got, e.SHA256))
	}
	if checkFile != nil {
		if err := checkFile(path); err != nil {
			msgs = append(msgs, fmt.Sprintf("signature: %v", err))
		}
	}
	return strings.Join(msgs, "; ")
}
