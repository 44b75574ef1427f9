package index

import (
	"context"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// DefaultLimit is how many calls a Query without a Limit returns.
const DefaultLimit = 20

// Query selects calls for Search.
type Query struct {
	// Text, if set, must occur (case-insensitively) in the ID, SIP
	// Call-ID, caller, callee (number or name), dialed number or the start
	// time written "2006-01-02 15:04:05" (UTC).
	Text string
	// Limit is the most calls returned (newest first); 0 means
	// DefaultLimit.
	Limit int
	// All includes calls that were not recorded.
	All bool
	// Quarantined includes quarantined recordings (no consent prompt
	// heard), which only an admin may see.
	Quarantined bool
}

// Matches reports whether c is one q selects (Limit aside).
func (q Query) Matches(c *Call) bool {
	switch {
	case !q.All && !c.Recorded, !q.Quarantined && c.Quarantined:
		return false
	case q.Text == "":
		return true
	}
	t := q.Text
	for _, s := range [...]string{c.ID, c.CallID, c.Caller, c.CallerName, c.Callee, c.CalleeName, c.Dialed} {
		if containsFold(s, t) {
			return true
		}
	}
	return !c.Start.IsZero() && containsFold(c.Start.UTC().Format("2006-01-02 15:04:05"), t)
}

// Search returns the newest q.Limit calls q matches, newest first.
func (ix *Index) Search(q Query) ([]Call, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	ring := make([]Call, 0, min(limit, 1024))
	next := 0
	err := ix.List(func(c *Call) error {
		if !q.Matches(c) {
			return nil
		}
		if len(ring) < limit {
			ring = append(ring, *c)
		} else {
			ring[next] = *c
		}
		next = (next + 1) % limit
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Call, 0, len(ring))
	for i := range ring { // newest first
		out = append(out, ring[(next-1-i+2*len(ring))%len(ring)])
	}
	return out, nil
}

// VerifyRecording checks one recorded call: its chain entry (present,
// hash intact, same file and SHA-256 as the call), and its file as
// VerifyChain checks every file (SHA-256, then checkFile, the caller's
// signature check). It returns the problems found, one line each, and
// how many files it checked (0 or 1); the error is ErrNotFound, ErrInvalid for a call
// without a finished recording, or the index's.
func (ix *Index) VerifyRecording(ctx context.Context, dataDir, id string, checkFile func(path string) error) ([]string, int, error) {
	var (
		c     *Call
		entry *ChainEntry
	)
	err := ix.db.View(func(tx *bolt.Tx) (err error) {
		if c, err = getCall(tx, id); err != nil {
			return err
		}
		entry, err = chainedEntry(tx, id)
		return err
	})
	switch {
	case err != nil:
		return nil, 0, fmt.Errorf("index: verify %s: %w", id, err)
	case !c.Recorded && c.End.IsZero():
		return nil, 0, fmt.Errorf("%w: %s is still being recorded: verify it once the call has ended", ErrInvalid, id)
	case !c.Recorded:
		return nil, 0, fmt.Errorf("%w: %s was not recorded (%s): nothing to verify", ErrInvalid, id, c.Reason)
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	switch {
	case entry == nil:
		bad("not in chain: the recording has no hash chain entry")
		entry = &ChainEntry{ID: id, File: c.File, SHA256: c.SHA256}
	case entry.ComputeHash(entry.Prev) != entry.Hash:
		bad("chain entry modified: seq %d hash %s does not match its contents (%s)", entry.Seq, entry.Hash, entry.ComputeHash(entry.Prev))
	case entry.File != c.File || entry.SHA256 != c.SHA256:
		bad("index differs from chain: call has file %q sha256 %s, chain seq %d has file %q sha256 %s",
			c.File, c.SHA256, entry.Seq, entry.File, entry.SHA256)
	}
	checked := 0
	if validFile(entry.File) {
		checked = 1
	}
	if what := checkRecording(dataDir, entry, checkFile); what != "" {
		bad("%s", what)
	}
	return problems, checked, nil
}

// VerifyAll checks the whole hash chain and every recording
// (VerifyChainContext) and the audit log's links (VerifyAudit). It
// returns the problems found, one line each, and how many files it
// checked. Unless quarantined is set (the viewer may see quarantined
// recordings), a problem of a quarantined recording is reported without
// its ID and file: the check is whole, the recording stays withheld.
func (ix *Index) VerifyAll(ctx context.Context, dataDir string, checkFile func(path string) error, quarantined bool) ([]string, int, error) {
	checked := 0
	problems, err := ix.VerifyChainContext(ctx, dataDir, func(path string) error {
		checked++
		if checkFile == nil {
			return nil
		}
		return checkFile(path)
	})
	if err != nil {
		return nil, checked, err
	}
	var out []string
	for _, p := range problems {
		if !quarantined && p.ID != "" {
			if c, err := ix.Get(p.ID); err == nil && c.Quarantined {
				p.ID, p.File = "(a quarantined recording)", ""
			}
		}
		out = append(out, p.String())
	}
	ap, err := ix.VerifyAudit()
	if err != nil {
		return out, checked, err
	}
	for _, p := range ap {
		out = append(out, "audit log: "+p)
	}
	return out, checked, nil
}

// containsFold reports whether s contains t, case-insensitively.
func containsFold(s, t string) bool {
	for i := 0; i+len(t) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(t)], t) {
			return true
		}
	}
	return false
}
