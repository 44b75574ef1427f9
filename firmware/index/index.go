package index

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Errors returned (wrapped) by this package; test with errors.Is.
var (
	// ErrLocked means another process (a second daemon) holds the index.
	ErrLocked = errors.New("index locked by another process")
	// ErrNotFound means no call (or meta key) exists under that key.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate means a recording was already chained under that call
	// ID with a different file or hash.
	ErrDuplicate = errors.New("recording already in chain with a different file or hash")
	// ErrSealed means Put tried to change the file or hash of a call whose
	// recording is already in the chain.
	ErrSealed = errors.New("call recording is sealed in the chain")
	// ErrInvalid means an argument or stored value is malformed.
	ErrInvalid = errors.New("invalid")
	// ErrCorrupt means the database is missing its buckets or holds an
	// undecodable chain head.
	ErrCorrupt = errors.New("index corrupt")
)

// OpenTimeout is how long Open waits for the database file lock before
// giving up with ErrLocked.
const OpenTimeout = time.Second

var (
	bucketCalls    = []byte("calls")
	bucketChain    = []byte("chain")
	bucketChainIDs = []byte("chainids")
	bucketMeta     = []byte("meta")

	// keyChainHead is the reserved meta key of the chain head: 8 bytes
	// big-endian sequence number followed by the hex hash of the last
	// entry. It lets VerifyChain detect a removed tail entry.
	keyChainHead = []byte("\x00chain-head")
)

// Index is an open recordings index. Its methods are safe for concurrent
// use (bbolt serialises writers).
type Index struct {
	db *bolt.DB
	// now stamps chain entries; a field so tests can pin it.
	now func() time.Time
}

// Open opens (creating if needed, with its parent directory) the index
// database at path and creates its buckets. If another process holds the
// database for OpenTimeout, Open fails with ErrLocked.
func Open(path string) (*Index, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("index: open %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: OpenTimeout})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("index: open %s: %w (is another spanrec running?)", path, ErrLocked)
		}
		return nil, fmt.Errorf("index: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketCalls, bucketChain, bucketChainIDs, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("index: open %s: %w", path, err)
	}
	ix := &Index{db: db, now: time.Now}
	ix.reserve()
	return ix, nil
}

// reserveBytes is the disk space kept allocated beyond the index file, so
// index writes still succeed when recordings have filled the disk: a call
// is then still indexed, with the reason its recording failed.
const reserveBytes = 1 << 20

// update runs fn in a write transaction, then tops up the reserve.
func (ix *Index) update(fn func(tx *bolt.Tx) error) error {
	err := ix.db.Update(fn)
	ix.reserve()
	return err
}

// Close closes the database and releases its lock.
func (ix *Index) Close() error {
	if err := ix.db.Close(); err != nil {
		return fmt.Errorf("index: close: %w", err)
	}
	return nil
}

// buckets returns the named bucket of tx or ErrCorrupt.
func bucket(tx *bolt.Tx, name []byte) (*bolt.Bucket, error) {
	b := tx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("%w: bucket %q missing", ErrCorrupt, name)
	}
	return b, nil
}

// Put inserts or updates one call, keyed by its ID. If the call's
// recording is already in the chain, its File and SHA256 must match the
// chain entry (else ErrSealed).
func (ix *Index) Put(c *Call) error {
	return ix.PutBatch([]*Call{c})
}

// PutBatch inserts or updates calls in one transaction (one flash write
// for many unanswered calls during a flood). Nothing is stored if any call
// is refused.
func (ix *Index) PutBatch(cs []*Call) error {
	vals := make([][]byte, len(cs))
	for i, c := range cs {
		if c == nil || c.ID == "" {
			return fmt.Errorf("index: put: %w: call without ID", ErrInvalid)
		}
		v, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("index: put %s: %w", c.ID, err)
		}
		vals[i] = v
	}
	return ix.update(func(tx *bolt.Tx) error {
		calls, err := bucket(tx, bucketCalls)
		if err != nil {
			return err
		}
		for i, c := range cs {
			e, err := chainedEntry(tx, c.ID)
			if err != nil {
				return fmt.Errorf("index: put %s: %w", c.ID, err)
			}
			if e != nil && (e.File != c.File || e.SHA256 != c.SHA256) {
				return fmt.Errorf("index: put %s: %w: chain seq %d has file %q sha256 %s", c.ID, ErrSealed, e.Seq, e.File, e.SHA256)
			}
			if err := calls.Put([]byte(c.ID), vals[i]); err != nil {
				return fmt.Errorf("index: put %s: %w", c.ID, err)
			}
		}
		return nil
	})
}

// Get returns the call stored under id, or ErrNotFound.
func (ix *Index) Get(id string) (*Call, error) {
	var c *Call
	err := ix.db.View(func(tx *bolt.Tx) (err error) {
		c, err = getCall(tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("index: get %s: %w", id, err)
	}
	return c, nil
}

// getCall reads the call stored under id in tx.
func getCall(tx *bolt.Tx, id string) (*Call, error) {
	calls, err := bucket(tx, bucketCalls)
	if err != nil {
		return nil, err
	}
	v := calls.Get([]byte(id))
	if v == nil {
		return nil, ErrNotFound
	}
	var c Call
	if err := json.Unmarshal(v, &c); err != nil {
		return nil, fmt.Errorf("%w: stored call: %w", ErrCorrupt, err)
	}
	return &c, nil
}

// putCall stores c in tx.
func putCall(tx *bolt.Tx, c *Call) error {
	calls, err := bucket(tx, bucketCalls)
	if err != nil {
		return err
	}
	v, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return calls.Put([]byte(c.ID), v)
}

// List calls fn for every call in ID (that is, chronological) order. An
// error from fn stops the walk and is returned as is. fn runs inside a
// read transaction: it must not write to the index.
func (ix *Index) List(fn func(*Call) error) error {
	return ix.db.View(func(tx *bolt.Tx) error {
		calls, err := bucket(tx, bucketCalls)
		if err != nil {
			return fmt.Errorf("index: list: %w", err)
		}
		cur := calls.Cursor()
		for k, v := cur.First(); k != nil; k, v = cur.Next() {
			c := new(Call)
			if err := json.Unmarshal(v, c); err != nil {
				return fmt.Errorf("index: list: call %q: %w: %w", k, ErrCorrupt, err)
			}
			if err := fn(c); err != nil {
				return err
			}
		}
		return nil
	})
}

// Count returns the number of calls in the index.
func (ix *Index) Count() (int, error) {
	var n int
	err := ix.db.View(func(tx *bolt.Tx) error {
		calls, err := bucket(tx, bucketCalls)
		if err != nil {
			return err
		}
		n = calls.Stats().KeyN
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("index: count: %w", err)
	}
	return n, nil
}

// SetMeta stores a meta value (for example the signing key's
// fingerprint). Keys starting with a NUL byte are reserved.
func (ix *Index) SetMeta(key, value string) error {
	if key == "" || key[0] == 0 {
		return fmt.Errorf("index: set meta: %w: key %q", ErrInvalid, key)
	}
	err := ix.update(func(tx *bolt.Tx) error {
		meta, err := bucket(tx, bucketMeta)
		if err != nil {
			return err
		}
		return meta.Put([]byte(key), []byte(value))
	})
	if err != nil {
		return fmt.Errorf("index: set meta %s: %w", key, err)
	}
	return nil
}

// Meta returns the meta value stored under key, or ErrNotFound.
func (ix *Index) Meta(key string) (string, error) {
	var val string
	err := ix.db.View(func(tx *bolt.Tx) error {
		meta, err := bucket(tx, bucketMeta)
		if err != nil {
			return err
		}
		v := meta.Get([]byte(key))
		if v == nil {
			return ErrNotFound
		}
		val = string(v)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("index: meta %s: %w", key, err)
	}
	return val, nil
}

// seqKey is the chain bucket key of seq.
func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq)
}
