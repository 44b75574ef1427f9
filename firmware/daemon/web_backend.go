package daemon

import (
	"errors"
	"fmt"
	"slices"

	"spanrec/firmware/control"
	"spanrec/firmware/index"
	"spanrec/firmware/web"
)

// SearchRecordings implements web.Backend: one walk of the index, keeping
// only the best q.Offset+q.Limit matches (bounded by
// control.MaxRecordingsLimit), whatever the index's size.
func (b *ConsoleBackend) SearchRecordings(q web.Search) (web.SearchPage, error) {
	if q.Offset < 0 || q.Limit <= 0 || q.Offset+q.Limit > control.MaxRecordingsLimit {
		return web.SearchPage{}, fmt.Errorf("%w: page %d+%d outside 1..%d", control.ErrBadRequest, q.Offset, q.Limit, control.MaxRecordingsLimit)
	}
	keep := q.Offset + q.Limit
	order := func(a, b index.Call) int { return q.Compare(&a, &b) }
	var page web.SearchPage
	best := make([]index.Call, 0, 2*keep)
	err := b.cfg.Index.List(func(c *index.Call) error {
		if !q.Matches(c) {
			return nil
		}
		page.Total++
		best = append(best, *c)
		if len(best) == cap(best) {
			slices.SortFunc(best, order)
			best = best[:keep]
		}
		return nil
	})
	if err != nil {
		return web.SearchPage{}, err
	}
	slices.SortFunc(best, order)
	page.List = best[min(q.Offset, len(best)):min(keep, len(best))]
	return page, nil
}

// ChainPosition implements web.Backend.
func (b *ConsoleBackend) ChainPosition(id string) (web.ChainPosition, error) {
	var pos web.ChainPosition
	prev := ""
	found := false
	err := b.cfg.Index.Chain(func(e *index.ChainEntry) error {
		if e.ID == id {
			pos = web.ChainPosition{ChainEntry: *e, Linked: e.Prev == prev}
			found = true
			return errStopWalk
		}
		prev = e.Hash
		return nil
	})
	if err != nil && !errors.Is(err, errStopWalk) {
		return pos, err
	}
	if !found {
		return pos, fmt.Errorf("%w: %s has no chain entry", index.ErrNotFound, id)
	}
	return pos, nil
}

// ReleaseQuarantine implements web.Backend: the entry is stored again
// without its quarantine (the chain covers the file, not this flag).
func (b *ConsoleBackend) ReleaseQuarantine(id, by string) error {
	c, err := b.cfg.Index.Get(id)
	if err != nil {
		return err
	}
	if !c.Quarantined {
		return fmt.Errorf("%w: %s is not quarantined", control.ErrBadRequest, id)
	}
	c.Quarantined = false
	if err := b.cfg.Index.Put(c); err != nil {
		return err
	}
	b.log.Info("quarantine released", "id", id, "by", by)
	return nil
}

// Reloadable implements web.Backend (reloadable: the keys
// Daemon.reload applies).
func (b *ConsoleBackend) Reloadable(key string) bool { return reloadable(key) }
