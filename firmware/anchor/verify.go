package anchor

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"spanrec/firmware/index"
)

// Result is what Verify found.
type Result struct {
	// Dir is the anchors folder read.
	Dir string
	// Anchors counts the valid anchors checked.
	Anchors int
	// Last is the anchor covering the most entries, LastName its name.
	Last     *Record
	LastName string
	// Local is the number of entries in the local chain; those after
	// Last.Seq are not anchored yet.
	Local uint64
	// Problems lists every anchor that is unreadable, not this
	// appliance's or does not match the local chain, and every deletion
	// whose offloaded copy is not on the share as its proof says.
	Problems []index.Problem
}

// anchored is one valid anchor file.
type anchored struct {
	name string
	r    *Record
}

// Verify checks the local chain (every entry, in sequence order) against
// every anchor under share/anchors signed with pub: the chain hash,
// recomputed from the entries' contents, must be each anchor's head at its
// seq. The first entry that differs from what an anchor covered is named.
// Deletion entries whose proof is an offload must have their copy on the
// share, with the proof's hash, at the proof's path. The error is non-nil
// only when the anchors folder cannot be read at all.
func Verify(share string, pub ed25519.PublicKey, chain []index.ChainEntry) (Result, error) {
	res := Result{Dir: filepath.Join(share, filepath.FromSlash(Dir))}
	list, err := os.ReadDir(res.Dir)
	if err != nil {
		return res, fmt.Errorf("anchor: %w", err)
	}
	var anchors []anchored
	for _, de := range list {
		name := de.Name()
		if !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, ".") || !de.Type().IsRegular() {
			continue
		}
		rel := Dir + "/" + name
		r, err := readAnchor(filepath.Join(res.Dir, name), pub)
		if err != nil {
			res.Problems = append(res.Problems, index.Problem{File: rel, What: "anchor unreadable: " + err.Error()})
			continue
		}
		anchors = append(anchors, anchored{name: rel, r: r})
	}
	if len(anchors) == 0 && len(res.Problems) == 0 {
		res.Problems = append(res.Problems, index.Problem{What: "no anchors: " + res.Dir + " holds no anchor file (is it the offload share?)"})
	}
	sort.Slice(anchors, func(i, j int) bool {
		a, b := anchors[i].r, anchors[j].r
		if a.Seq != b.Seq {
			return a.Seq < b.Seq
		}
		return a.Time.Before(b.Time)
	})
	res.Anchors = len(anchors)
	if n := len(anchors); n > 0 {
		res.Last, res.LastName = anchors[n-1].r, anchors[n-1].name
	}

	// The chain hash at each local position, recomputed from the entries'
	// contents (their stored hashes are not trusted).
	bySeq := make(map[uint64]*index.ChainEntry, len(chain))
	recomputed := make(map[uint64]string, len(chain))
	var h string
	var lastSeq uint64
	for i := range chain {
		e := &chain[i]
		h = e.ComputeHash(h)
		bySeq[e.Seq], recomputed[e.Seq] = e, h
		lastSeq = max(lastSeq, e.Seq)
	}
	res.Local = uint64(len(chain))
	// What the anchors say each entry was (the first anchor listing it).
	was := map[uint64]Entry{}
	for _, a := range anchors {
		for _, e := range a.r.Covered {
			if _, ok := was[e.Seq]; !ok {
				was[e.Seq] = e
			}
		}
	}
	for _, a := range anchors {
		r := a.r
		what := fmt.Sprintf("anchor mismatch: %s (entries 1..%d, written %s): ", a.name, r.Seq, r.Time.Format("2006-01-02 15:04:05Z"))
		got, ok := recomputed[r.Seq]
		switch {
		case !ok:
			p := firstDifference(was, bySeq, recomputed, r.Seq)
			p.What = what + fmt.Sprintf("the local chain has no entry %d (it ends at seq %d, %d entries): entries removed; %s",
				r.Seq, lastSeq, len(chain), p.What)
			res.Problems = append(res.Problems, p)
		case got != r.Head:
			p := firstDifference(was, bySeq, recomputed, r.Seq)
			p.What = what + fmt.Sprintf("history before it was rewritten: the chain hash recomputed at seq %d is %.16s, the anchor's head %.16s; %s",
				r.Seq, got, r.Head, p.What)
			res.Problems = append(res.Problems, p)
		}
	}
	for i := range chain {
		if p, bad := checkCopy(share, &chain[i]); bad {
			res.Problems = append(res.Problems, p)
		}
	}
	return res, nil
}

// readAnchor reads and parses one anchor file.
func readAnchor(path string, pub ed25519.PublicKey) (*Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, err
	}
	return Parse(data, pub)
}

// firstDifference names the first entry up to seq that is not what the
// anchors covered (or whose recomputed hash is not the anchored one).
func firstDifference(was map[uint64]Entry, bySeq map[uint64]*index.ChainEntry, recomputed map[uint64]string, seq uint64) index.Problem {
	for k := uint64(1); k <= seq; k++ {
		a, known := was[k]
		e := bySeq[k]
		switch {
		case !known:
			continue
		case e == nil:
			return index.Problem{ID: a.ID, File: a.File, What: fmt.Sprintf("entry %d (%s, %s) is gone", k, a.ID, a.File)}
		case e.ID != a.ID:
			return index.Problem{ID: a.ID, File: a.File, What: fmt.Sprintf(
				"entry %d was %s (%s) when anchored and is %s now: an entry dropped or inserted and the chain rebuilt", k, a.ID, a.File, e.ID)}
		case e.File != a.File || e.SHA256 != a.SHA256:
			return index.Problem{ID: e.ID, File: e.File, What: fmt.Sprintf(
				"entry %d (%s): file %s sha256 %.16s when anchored, now %s sha256 %.16s: the recording was replaced or re-signed after it was anchored",
				k, e.ID, a.File, a.SHA256, e.File, e.SHA256)}
		case recomputed[k] != a.Hash:
			return index.Problem{ID: e.ID, File: e.File, What: fmt.Sprintf(
				"entry %d (%s) changed after it was anchored (its hash, recomputed, is not the anchored one)", k, e.ID)}
		}
	}
	return index.Problem{What: fmt.Sprintf("an entry in 1..%d changed (anchors on this share do not list which)", seq)}
}

// checkCopy checks, for a deletion entry whose proof is an offload, that
// the copy is on the share; a deletion before any offload is reported
// too, since nothing off the box shows what it held.
func checkCopy(share string, e *index.ChainEntry) (index.Problem, bool) {
	id, del := strings.CutSuffix(e.ID, index.DeletedSuffix)
	if !del || e.Proof == nil {
		return index.Problem{}, false
	}
	p := index.Problem{ID: id, File: e.File}
	switch e.Proof.Kind {
	case index.ProofUnoffloaded:
		p.What = fmt.Sprintf("deletion proof: deleted at seq %d before it was offloaded (%s): no copy exists to show what it held", e.Seq, e.Proof.Reason)
		return p, true
	case index.ProofOffloaded:
	default:
		return p, false
	}
	rel := filepath.FromSlash(e.Proof.Path)
	if !filepath.IsLocal(rel) {
		p.What = fmt.Sprintf("deletion proof: remote path %q leaves the share", e.Proof.Path)
		return p, true
	}
	path := filepath.Join(share, rel)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		p.What = fmt.Sprintf("deletion proof: deleted at seq %d as offloaded to %s, but the share has no %s", e.Seq, e.Proof.Target, path)
		return p, true
	}
	if err != nil {
		p.What = fmt.Sprintf("deletion proof: offloaded copy unreadable: %v", err)
		return p, true
	}
	defer f.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, f); err != nil {
		p.What = fmt.Sprintf("deletion proof: offloaded copy unreadable: %v", err)
		return p, true
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != e.Proof.SHA256 {
		p.What = fmt.Sprintf("deletion proof: the copy on the share %s has sha256 %s, the proof says %s", path, got, e.Proof.SHA256)
		return p, true
	}
	return p, false
}
