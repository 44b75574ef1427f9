package index

import (
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DeletedSuffix marks the chain entry that records a recording's deletion:
// its ID is the call's ID plus this suffix, its File and SHA256 those of
// the deleted file. Deletions are thus in the hash chain too: a file
// removed without one is reported missing, and a forged deletion record
// breaks the chain.
const DeletedSuffix = "/deleted"

// MarkDeleted records that id's recording file was deleted, and why, in
// one transaction: the call is updated and a deletion entry is chained.
func (ix *Index) MarkDeleted(id, reason string, at time.Time) error {
	err := ix.update(func(tx *bolt.Tx) error {
		c, err := getCall(tx, id)
		if err != nil || !c.Deleted.IsZero() {
			return err
		}
		if e, err := chainedEntry(tx, id); err != nil || e == nil {
			return fmt.Errorf("%w: recording is not in the chain", ErrInvalid)
		}
		c.Deleted, c.DeleteReason = at.UTC(), reason
		if err := ix.appendEntry(tx, id+DeletedSuffix, c.File, c.SHA256); err != nil {
			return err
		}
		return putCall(tx, c)
	})
	if err != nil {
		return fmt.Errorf("index: mark %s deleted: %w", id, err)
	}
	return nil
}

// MarkOffloaded records that id's recording was copied, verified, to
// remote at at.
func (ix *Index) MarkOffloaded(id, remote string, at time.Time) error {
	err := ix.update(func(tx *bolt.Tx) error {
		c, err := getCall(tx, id)
		if err != nil {
			return err
		}
		c.Offloaded, c.Remote = at.UTC(), remote
		return putCall(tx, c)
	})
	if err != nil {
		return fmt.Errorf("index: mark %s offloaded: %w", id, err)
	}
	return nil
}

// isDeletion reports whether a chain entry records a deletion, and of
// which call.
func isDeletion(e *ChainEntry) (string, bool) {
	return strings.CutSuffix(e.ID, DeletedSuffix)
}
