package index

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketAudit holds the audit log: big-endian sequence number -> AuditEntry
// as JSON. It is created by the first AppendAudit (an index written by an
// older spanrec has none).
var bucketAudit = []byte("audit")

// maxAuditField bounds each text field of an audit entry.
const maxAuditField = 1024

// AuditEntry is one line of the audit log: who changed what through the
// console or the control API, and how it went.
type AuditEntry struct {
	// Seq numbers entries from 1; it is also the bucket key.
	Seq uint64 `json:"seq"`
	// Time is when the command ran (UTC).
	Time time.Time `json:"time"`
	// User is who ran it, e.g. "console:alice".
	User string `json:"user"`
	// Command is what ran, e.g. "pause 20261125T144422Z-3fa2c1d0"
	// (never a password).
	Command string `json:"command"`
	// Result is "ok" or the error.
	Result string `json:"result"`
	// Prev is the Hash of the previous entry, "" for the first.
	Prev string `json:"prev"`
	// Hash is AuditHash over this entry's other fields and Prev: editing
	// or removing an entry breaks the links after it (VerifyAudit).
	Hash string `json:"hash"`
}

// AuditHash returns the hex SHA-256 over prev, seq, time (RFC 3339 nano,
// UTC), user, command and result joined by NUL bytes.
func AuditHash(prev string, seq uint64, t time.Time, user, command, result string) string {
	h := sha256.New()
	for i, s := range [...]string{prev, fmt.Sprint(seq), t.UTC().Format(time.RFC3339Nano), user, command, result} {
		if i > 0 {
			h.Write([]byte{0})
		}
		io.WriteString(h, s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// auditText makes s storable: NUL bytes (the hash separator) become '?'
// and it is cut to maxAuditField bytes.
func auditText(s string) string {
	s = strings.ReplaceAll(s, "\x00", "?")
	if len(s) > maxAuditField {
		s = s[:maxAuditField]
	}
	return s
}

// AppendAudit appends e to the audit log and returns it as stored: Seq,
// Prev and Hash are set, Time is set to now when zero, and the text fields
// are cut to 1 KiB.
func (ix *Index) AppendAudit(e AuditEntry) (AuditEntry, error) {
	if e.Time.IsZero() {
		e.Time = ix.now()
	}
	err := ix.update(func(tx *bolt.Tx) (err error) {
		e, err = ix.appendAuditTx(tx, e)
		return err
	})
	if err != nil {
		return AuditEntry{}, fmt.Errorf("index: append audit: %w", err)
	}
	return e, nil
}

// appendAuditTx appends e (Time set) to the audit log in tx and returns it
// as stored.
func (ix *Index) appendAuditTx(tx *bolt.Tx, e AuditEntry) (AuditEntry, error) {
	e.Time = e.Time.UTC()
	e.User, e.Command, e.Result = auditText(e.User), auditText(e.Command), auditText(e.Result)
	b, err := tx.CreateBucketIfNotExists(bucketAudit)
	if err != nil {
		return e, err
	}
	e.Seq, e.Prev = 1, ""
	if k, v := b.Cursor().Last(); k != nil {
		var last AuditEntry
		if len(k) != 8 || json.Unmarshal(v, &last) != nil {
			return e, fmt.Errorf("%w: last audit entry %x unreadable", ErrCorrupt, k)
		}
		e.Seq, e.Prev = binary.BigEndian.Uint64(k)+1, last.Hash
	}
	e.Hash = AuditHash(e.Prev, e.Seq, e.Time, e.User, e.Command, e.Result)
	v, err := json.Marshal(&e)
	if err != nil {
		return e, err
	}
	return e, b.Put(seqKey(e.Seq), v)
}

// Audit calls fn for every audit entry, oldest first. An error from fn
// stops the walk and is returned as is. fn runs inside a read transaction:
// it must not write to the index.
func (ix *Index) Audit(fn func(*AuditEntry) error) error {
	return ix.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		if b == nil {
			return nil
		}
		cur := b.Cursor()
		for k, v := cur.First(); k != nil; k, v = cur.Next() {
			e := new(AuditEntry)
			if err := json.Unmarshal(v, e); err != nil {
				return fmt.Errorf("index: audit: entry %x: %w: %w", k, ErrCorrupt, err)
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// AuditTail returns the last n audit entries (all when n <= 0), oldest
// first.
func (ix *Index) AuditTail(n int) ([]AuditEntry, error) {
	var out []AuditEntry
	err := ix.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		if b == nil {
			return nil
		}
		cur := b.Cursor()
		for k, v := cur.Last(); k != nil && (n <= 0 || len(out) < n); k, v = cur.Prev() {
			var e AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("entry %x: %w: %w", k, ErrCorrupt, err)
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index: audit tail: %w", err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// VerifyAudit checks every audit entry's hash and its link to the one
// before, and returns a description of each problem found (none: the log
// is intact). The error is non-nil only when the index cannot be read.
func (ix *Index) VerifyAudit() ([]string, error) {
	var problems []string
	err := ix.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		if b == nil {
			return nil
		}
		var prevSeq uint64
		var prevHash string
		return b.ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				problems = append(problems, fmt.Sprintf("foreign key %x in the audit log", k))
				return nil
			}
			seq := binary.BigEndian.Uint64(k)
			var e AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				problems = append(problems, fmt.Sprintf("audit entry %d unreadable: %v", seq, err))
				prevSeq, prevHash = seq, ""
				return nil
			}
			if e.Seq != seq || AuditHash(e.Prev, e.Seq, e.Time, e.User, e.Command, e.Result) != e.Hash {
				problems = append(problems, fmt.Sprintf("audit entry %d modified", seq))
			}
			if seq != prevSeq+1 {
				problems = append(problems, fmt.Sprintf("audit entries %d..%d removed", prevSeq+1, seq-1))
			} else if e.Prev != prevHash {
				problems = append(problems, fmt.Sprintf("audit entry %d does not link to entry %d", seq, prevSeq))
			}
			prevSeq, prevHash = seq, e.Hash
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("index: verify audit: %w", err)
	}
	return problems, nil
}
