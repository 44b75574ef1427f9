package archive

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/minio/minio-go/v7"

	"spanrec/firmware/anchor"
	"spanrec/firmware/index"
	"spanrec/firmware/keys"
	"spanrec/media/sign"
)

// maxSmall bounds what is read of a key, manifest or anchor object.
const maxSmall = 16 << 20

// Problem is one thing wrong in an appliance's folder.
type Problem struct {
	// Key is the object concerned ("" for the folder as a whole).
	Key string
	// What says what is wrong, for people.
	What string
}

// String formats p as "KEY: WHAT".
func (p Problem) String() string {
	if p.Key == "" {
		return p.What
	}
	return p.Key + ": " + p.What
}

// Checked is the result of Verify for one appliance.
type Checked struct {
	*Appliance
	// KeyID is the fingerprint of spanrec.pub ("" when missing).
	KeyID string
	// Valid counts recordings whose signature verified.
	Valid int
	// Anchors counts the valid anchors; Entries is the last chain entry
	// they cover (0: none).
	Anchors int
	Entries uint64
	// Unanchored counts recordings no anchor covers yet.
	Unanchored int
	// Problems lists what is missing, changed or unsigned.
	Problems []Problem
}

func (c *Checked) bad(key, format string, a ...any) {
	c.Problems = append(c.Problems, Problem{Key: key, What: fmt.Sprintf(format, a...)})
}

// Verify lists the archive (see List) and checks every appliance's folder
// (see the package doc). tmp is a directory for downloads ("" is the
// system's). Only a failure to read the bucket is an error; everything
// wrong in it is a Problem.
func Verify(ctx context.Context, c *minio.Client, bucket, prefix, tmp string) ([]*Checked, error) {
	apps, err := List(ctx, c, bucket, prefix)
	if err != nil {
		return nil, err
	}
	var out []*Checked
	for _, a := range apps {
		ch, err := verifyAppliance(ctx, c, bucket, a, tmp)
		if err != nil {
			return out, err
		}
		out = append(out, ch)
	}
	return out, nil
}

// readSmall downloads a small object.
func readSmall(ctx context.Context, c *minio.Client, bucket, key string) ([]byte, error) {
	r, err := c.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("%w: get %s: %w", ErrArchive, key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxSmall+1))
	if err != nil {
		return nil, fmt.Errorf("%w: get %s: %w", ErrArchive, key, err)
	}
	if len(b) > maxSmall {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrArchive, key, maxSmall)
	}
	return b, nil
}

// download copies an object to a temporary file and hashes it; the
// caller removes the file.
func download(ctx context.Context, c *minio.Client, bucket, key, tmp string) (string, string, int64, error) {
	r, err := c.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return "", "", 0, fmt.Errorf("%w: get %s: %w", ErrArchive, key, err)
	}
	defer r.Close()
	f, err := os.CreateTemp(tmp, "spanrec-archive-*")
	if err != nil {
		return "", "", 0, fmt.Errorf("archive: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", "", 0, fmt.Errorf("%w: get %s: %w", ErrArchive, key, err)
	}
	return f.Name(), hex.EncodeToString(h.Sum(nil)), n, nil
}

// verifyFile checks a downloaded recording's signature against each key
// in turn (as `spanrec verify` does on a local file); errors do not name
// the temporary file.
func verifyFile(name string, size int64, pubs []ed25519.PublicKey) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, pub := range pubs {
		if err = sign.Verify(f, size, pub); err == nil {
			return nil
		}
	}
	return err
}

// copyState is what Verify found of one recording object.
type copyState struct {
	sha  string
	size int64
}

func verifyAppliance(ctx context.Context, c *minio.Client, bucket string, a *Appliance, tmp string) (*Checked, error) {
	ch := &Checked{Appliance: a}
	// The keys: spanrec.pub, then the earlier ones the offloader kept.
	var pubs []ed25519.PublicKey
	for _, k := range a.Keys {
		b, err := readSmall(ctx, c, bucket, k.Key)
		if err != nil {
			return nil, err
		}
		pub, err := keys.ParsePublic(b, k.Key)
		if err != nil {
			ch.bad(k.Key, "unreadable public key: %v", err)
			continue
		}
		if k.Name == "spanrec.pub" {
			ch.KeyID = keys.Fingerprint(pub)
		}
		pubs = append(pubs, pub)
	}
	if ch.KeyID == "" {
		ch.bad(a.Prefix+"/spanrec.pub", "missing: no public key to verify the appliance's signatures with")
	}

	// Every recording: its signature and its manifest.
	copies := map[string]copyState{} // by name below the prefix
	for _, o := range a.Recordings {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		file, sum, n, err := download(ctx, c, bucket, o.Key, tmp)
		if err != nil {
			return nil, err
		}
		copies[o.Name] = copyState{sha: sum, size: n}
		verr := verifyFile(file, n, pubs)
		os.Remove(file)
		switch {
		case len(pubs) == 0:
		case verr != nil:
			ch.bad(o.Key, "signature INVALID: %v", verr)
		default:
			ch.Valid++
		}
		id, _ := recordingID(o.Name)
		m, ok := a.Manifests[id]
		if !ok {
			ch.bad(o.Key, "no manifest (%s.json) beside it", id)
			continue
		}
		b, err := readSmall(ctx, c, bucket, m.Key)
		if err != nil {
			return nil, err
		}
		var call index.Call
		if err := json.Unmarshal(b, &call); err != nil {
			ch.bad(m.Key, "manifest unreadable: %v", err)
			continue
		}
		if call.ID != id || call.SHA256 != sum || call.Size != n {
			ch.bad(o.Key, "differs from its manifest: %d bytes, sha256 %s; manifest %s says %d bytes, sha256 %s",
				n, sum, call.ID, call.Size, call.SHA256)
		}
	}

	// The anchors and the chain they cover.
	entries := map[uint64]anchor.Entry{}
	var heads []*anchor.Record
	for _, o := range a.Anchors {
		b, err := readSmall(ctx, c, bucket, o.Key)
		if err != nil {
			return nil, err
		}
		var r *anchor.Record
		perr := fmt.Errorf("no public key")
		for _, pub := range pubs {
			if r, perr = anchor.Parse(b, pub); perr == nil {
				break
			}
		}
		if perr != nil {
			ch.bad(o.Key, "anchor INVALID: %v", perr)
			continue
		}
		ch.Anchors++
		heads = append(heads, r)
		for _, e := range r.Covered {
			if was, ok := entries[e.Seq]; ok && was != e {
				ch.bad(o.Key, "entry %d differs from an earlier anchor's (%s, hash %.16s; was %s, hash %.16s): history rewritten",
					e.Seq, e.ID, e.Hash, was.ID, was.Hash)
				continue
			}
			entries[e.Seq] = e
		}
		if last, ok := entries[r.Seq]; !ok || last.Hash != r.Head {
			ch.bad(o.Key, "its head %.16s is not the hash of the entry %d it lists", r.Head, r.Seq)
		}
		ch.Entries = max(ch.Entries, r.Seq)
	}
	if len(a.Anchors) == 0 {
		ch.bad(a.Prefix+"/"+anchor.Dir+"/", "no anchors: the chain cannot be checked")
	}
	checkChain(ch, entries)

	// Every anchored recording must be in the archive as anchored.
	covered := map[string]bool{}
	deleted := map[string]uint64{}
	for _, e := range entries {
		if id, ok := strings.CutSuffix(e.ID, index.DeletedSuffix); ok {
			deleted[id] = e.Seq
		}
	}
	seqs := sortedSeqs(entries)
	for _, s := range seqs {
		e := entries[s]
		if strings.HasSuffix(e.ID, index.DeletedSuffix) {
			continue
		}
		name := strings.TrimPrefix(e.File, "recordings/")
		key := a.Prefix + "/" + name
		covered[name] = true
		got, ok := copies[name]
		switch {
		case !ok && deleted[e.ID] != 0:
			ch.bad(key, "MISSING: entry %d (%s, sha256 %.16s) is anchored; the appliance deleted it at entry %d, and the archive has no copy",
				e.Seq, e.ID, e.SHA256, deleted[e.ID])
		case !ok:
			ch.bad(key, "MISSING: entry %d (%s, sha256 %.16s) is anchored but not in the archive", e.Seq, e.ID, e.SHA256)
		case got.sha != e.SHA256:
			ch.bad(key, "CHANGED: sha256 %s, anchored at entry %d as %s", got.sha, e.Seq, e.SHA256)
		}
	}
	for _, o := range a.Recordings {
		if !covered[o.Name] {
			ch.Unanchored++
		}
	}
	return ch, nil
}

// checkChain checks that the anchored entries run from 1 without a gap
// and that each recording entry's hash follows from the one before.
func checkChain(ch *Checked, entries map[uint64]anchor.Entry) {
	seqs := sortedSeqs(entries)
	var gapFrom uint64 = 1
	for _, s := range seqs {
		if s > gapFrom {
			ch.bad(ch.Prefix+"/"+anchor.Dir+"/", "entries %d..%d are in no anchor: an anchor is missing", gapFrom, s-1)
		}
		gapFrom = s + 1
		e := entries[s]
		if strings.HasSuffix(e.ID, index.DeletedSuffix) {
			continue // its hash covers its proof, which anchors do not list
		}
		prev := ""
		if s > 1 {
			p, ok := entries[s-1]
			if !ok {
				continue
			}
			prev = p.Hash
		}
		if index.EntryHash(prev, e.ID, e.File, e.SHA256) != e.Hash {
			ch.bad(ch.Prefix+"/"+anchor.Dir+"/", "entry %d (%s): its hash does not follow from entry %d's: the chain is broken", s, e.ID, s-1)
		}
	}
}

func sortedSeqs(entries map[uint64]anchor.Entry) []uint64 {
	seqs := make([]uint64, 0, len(entries))
	for s := range entries {
		seqs = append(seqs, s)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	return seqs
}
