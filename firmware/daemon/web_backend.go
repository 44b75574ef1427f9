package daemon

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"

	"gopkg.in/yaml.v3"

	"spanrec/firmware/users"

	"spanrec/firmware/control"
	"spanrec/firmware/index"
	"spanrec/firmware/web"
)

// errStopWalk ends an index walk early.
var errStopWalk = errors.New("stop")

// SearchPage implements web.Recordings: one walk of the index, keeping
// only the best q.Offset+q.Limit matches (bounded by
// control.MaxRecordingsLimit), whatever the index's size. Quarantined
// recordings are in it only for a viewer who may see them.
func (r *Recordings) SearchPage(viewer users.Role, q web.Search) (web.SearchPage, error) {
	q.Quarantined = users.Can(viewer, users.ViewQuarantined)
	if q.Offset < 0 || q.Limit <= 0 || q.Offset+q.Limit > control.MaxRecordingsLimit {
		return web.SearchPage{}, fmt.Errorf("%w: page %d+%d outside 1..%d", control.ErrBadRequest, q.Offset, q.Limit, control.MaxRecordingsLimit)
	}
	keep := q.Offset + q.Limit
	order := func(a, b index.Call) int { return q.Compare(&a, &b) }
	var page web.SearchPage
	best := make([]index.Call, 0, 2*keep)
	err := r.ix.List(func(c *index.Call) error {
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

// ChainPosition implements web.Recordings.
func (r *Recordings) ChainPosition(id string) (web.ChainPosition, error) {
	var pos web.ChainPosition
	prev := ""
	found := false
	err := r.ix.Chain(func(e *index.ChainEntry) error {
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

// ReleaseQuarantine implements web.Recordings: the entry is stored again
// without its quarantine (the chain covers the file, not this flag).
func (r *Recordings) ReleaseQuarantine(id, by string) error {
	c, err := r.ix.Get(id)
	if err != nil {
		return err
	}
	if !c.Quarantined {
		return fmt.Errorf("%w: %s is not quarantined", control.ErrBadRequest, id)
	}
	c.Quarantined = false
	if err := r.ix.Put(c); err != nil {
		return err
	}
	r.log.Info("quarantine released", "id", id, "by", by)
	return nil
}

// Reloadable implements web.Settings (reloadable: the keys
// Daemon.reload applies).
func (s *Settings) Reloadable(key string) bool { return reloadable(key) }

// ConfigFile implements web.Settings.
func (s *Settings) ConfigFile() (path, text string, err error) {
	if s.file == "" {
		return "", "", fmt.Errorf("%w: the daemon runs without a configuration file (start it with --config FILE)", control.ErrNotConfigured)
	}
	data, err := os.ReadFile(s.file)
	if err != nil {
		return s.file, "", fmt.Errorf("configuration file: %w", err)
	}
	return s.file, string(data), nil
}

// ReplaceConfig implements web.Settings as SetConfig does for one key: the
// new file is parsed and validated (as `spanrec config check` does),
// written atomically, and reloaded when a section the daemon reloads
// changed.
func (s *Settings) ReplaceConfig(text string) (web.ConfigReplaced, error) {
	r := web.ConfigReplaced{File: s.file}
	err := s.rewrite(func([]byte) ([]byte, error) { return []byte(text), nil }, func(old, next []byte) error {
		reload := false
		for _, sec := range changedSections(old, next) {
			if reloadable(sec) {
				r.Applied = append(r.Applied, sec)
				reload = true
			} else {
				r.Restart = append(r.Restart, sec)
			}
		}
		if reload && s.reload != nil {
			if err := s.reload(); err != nil {
				return fmt.Errorf("saved, but the reload failed: %w", err)
			}
		} else {
			// Nothing is applied without a reload to apply it.
			r.Restart, r.Applied = append(r.Restart, r.Applied...), nil
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	slices.Sort(r.Restart)
	s.log.Info("configuration replaced", "file", s.file, "applied", r.Applied, "restart", r.Restart)
	return r, nil
}

// changedSections returns the top-level keys whose values differ between
// two YAML documents (both valid: parsed before), sorted.
func changedSections(a, b []byte) []string {
	var ma, mb map[string]any
	_ = yaml.Unmarshal(a, &ma)
	_ = yaml.Unmarshal(b, &mb)
	var out []string
	for _, k := range slices.Sorted(maps.Keys(ma)) {
		if !reflect.DeepEqual(ma[k], mb[k]) {
			out = append(out, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(mb)) {
		if _, ok := ma[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
