package anchor

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"spanrec/firmware/index"
)

// Chain is what Build needs of the index.
type Chain interface {
	Chain(fn func(*index.ChainEntry) error) error
}

// Build returns the record of the chain's head at time at, listing the
// entries after last (the anchor written before; nil for none), or nil
// when the head is anchored already or the chain is empty. When the entry
// last covered is no longer what it was, the record lists the whole chain.
// A chain that does not verify (an entry that does not match its hash or
// does not link to the one before) is not anchored: Build fails naming the
// entry, so an anchor never vouches for a broken chain.
func Build(ix Chain, last *Written, at time.Time) (*Record, error) {
	var (
		all  []Entry
		prev string
	)
	err := ix.Chain(func(e *index.ChainEntry) error {
		if want := uint64(len(all)) + 1; e.Seq != want {
			return fmt.Errorf("chain entry seq %d where %d belongs", e.Seq, want)
		}
		if e.Prev != prev || e.ComputeHash(prev) != e.Hash {
			return fmt.Errorf("chain entry %d (%s) does not match its hash or its link", e.Seq, e.ID)
		}
		prev = e.Hash
		all = append(all, Entry{Seq: e.Seq, ID: e.ID, File: e.File, SHA256: e.SHA256, Hash: e.Hash})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("anchor: chain not anchored: %w", err)
	}
	if len(all) == 0 {
		return nil, nil
	}
	head := all[len(all)-1]
	from := uint64(1)
	if last != nil && last.Seq >= 1 && last.Seq <= head.Seq && all[last.Seq-1].Hash == last.Head {
		if last.Seq == head.Seq {
			return nil, nil
		}
		from = last.Seq + 1
	}
	return &Record{
		Time:    at.UTC(),
		Seq:     head.Seq,
		Entries: uint64(len(all)),
		Head:    head.Hash,
		From:    from,
		Covered: all[from-1:],
	}, nil
}

// MetaKey is the index meta key under which the last anchor written is
// kept (a Written as JSON).
const MetaKey = "anchor.last"

// Written is the last anchor written to the share, as the index keeps it
// (for status, and for the next anchor to start after it).
type Written struct {
	// Name is the anchor's path on the share, Remote its URL.
	Name   string    `json:"name"`
	Remote string    `json:"remote"`
	Time   time.Time `json:"time"`
	Seq    uint64    `json:"seq"`
	Head   string    `json:"head"`
}

// Meta is what Last and Store need of the index.
type Meta interface {
	Meta(key string) (string, error)
	SetMeta(key, value string) error
}

// Last returns the last anchor written, or nil when none was.
func Last(m Meta) (*Written, error) {
	v, err := m.Meta(MetaKey)
	if errors.Is(err, index.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var w Written
	if err := json.Unmarshal([]byte(v), &w); err != nil {
		return nil, fmt.Errorf("anchor: last anchor in the index: %w", err)
	}
	return &w, nil
}

// Store records w as the last anchor written.
func Store(m Meta, w Written) error {
	v, err := json.Marshal(w)
	if err != nil {
		return err
	}
	return m.SetMeta(MetaKey, string(v))
}
