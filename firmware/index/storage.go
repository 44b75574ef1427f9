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
// one transaction: the call is updated and a deletion entry is chained
// with the proof. Only a proof of a verified copy (ProofOffloaded, of the
// call as marked offloaded) or a ProofUnoffloaded deletion is taken here;
// an admin deletes with MarkDeletedByAdmin.
func (ix *Index) MarkDeleted(id string, proof DeletionProof, at time.Time) error {
	err := ix.update(func(tx *bolt.Tx) error {
		c, err := ix.deletable(tx, id)
		if err != nil || c == nil {
			return err
		}
		if proof.Kind != ProofOffloaded && proof.Kind != ProofUnoffloaded {
			return fmt.Errorf("%w: a %q deletion is not written here", ErrInvalid, proof.Kind)
		}
		return ix.chainDeletion(tx, c, proof, at)
	})
	if err != nil {
		return fmt.Errorf("index: mark %s deleted: %w", id, err)
	}
	return nil
}

// MarkDeletedByAdmin records that admin deleted id's recording file: one
// transaction appends the audit log entry (AdminDeleteCommand) and chains
// the deletion with a ProofAdmin naming it.
func (ix *Index) MarkDeletedByAdmin(id, admin string, at time.Time) error {
	err := ix.update(func(tx *bolt.Tx) error {
		c, err := ix.deletable(tx, id)
		if err != nil || c == nil {
			return err
		}
		a, err := ix.appendAuditTx(tx, AuditEntry{Time: at, User: admin, Command: AdminDeleteCommand(id), Result: "ok"})
		if err != nil {
			return err
		}
		return ix.chainDeletion(tx, c, DeletionProof{Kind: ProofAdmin, Reason: "admin: deleted by " + a.User,
			Admin: a.User, AuditSeq: a.Seq}, at)
	})
	if err != nil {
		return fmt.Errorf("index: admin delete %s: %w", id, err)
	}
	return nil
}

// deletable returns the call id, or nil when it is deleted already; it
// must be chained.
func (ix *Index) deletable(tx *bolt.Tx, id string) (*Call, error) {
	c, err := getCall(tx, id)
	if err != nil || !c.Deleted.IsZero() {
		return nil, err
	}
	if e, err := chainedEntry(tx, id); err != nil || e == nil {
		return nil, fmt.Errorf("%w: recording is not in the chain", ErrInvalid)
	}
	return c, nil
}

// chainDeletion checks proof, chains the deletion of c and updates c.
func (ix *Index) chainDeletion(tx *bolt.Tx, c *Call, proof DeletionProof, at time.Time) error {
	if err := proof.Validate(c); err != nil {
		return err
	}
	c.Deleted, c.DeleteReason = at.UTC(), proof.Reason
	if _, err := ix.appendEntry(tx, &ChainEntry{ID: c.ID + DeletedSuffix, File: c.File, SHA256: c.SHA256, Proof: &proof}); err != nil {
		return err
	}
	return putCall(tx, c)
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
