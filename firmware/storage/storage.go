package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"spanrec/firmware/anchor"
	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/firmware/keys"
	"spanrec/firmware/offload"
)

// Config are the storage limits. Zero fields mean no limit, except
// MinFreeBytes, which defaults to 256 MiB.
type Config struct {
	DataDir           string
	MaxBytes          int64         // recordings may use at most this much
	MaxAge            time.Duration // recordings older than this go
	MinFreeBytes      int64         // keep this much free on the filesystem (negative: no floor)
	DeleteUnoffloaded bool          // when full, also delete recordings not yet offloaded
	Interval          time.Duration // how often Run checks; default 1 min
}

// Index is what storage needs of the index (*index.Index): the calls,
// their deletion and offload marks, and for anchors the chain and the
// meta key of the last one written.
type Index interface {
	List(fn func(*index.Call) error) error
	Get(id string) (*index.Call, error)
	MarkDeleted(id string, proof index.DeletionProof, at time.Time) error
	MarkDeletedByAdmin(id, admin string, at time.Time) error
	MarkOffloaded(id, remote string, at time.Time) error
	anchor.Chain
	anchor.Meta
}

// Status is the storage state for the status display and the fault LED.
type Status struct {
	UsedBytes  int64 // by recordings still on disk
	Recordings int
	FreeBytes  uint64
	TotalBytes uint64
	// NearFull: free space or quota within 10% of the limit, or a limit
	// reached with nothing left that may be deleted.
	NearFull bool
	// Full: a limit is exceeded and no recording may be deleted (none is
	// offloaded and DeleteUnoffloaded is off).
	Full      bool
	Deleted   uint64 // recordings deleted since start
	LastError string
}

// Manager enforces the limits. Its methods are safe for concurrent use.
type Manager struct {
	cfg Config
	ix  Index
	log *slog.Logger

	mu     sync.Mutex
	status Status
}

// New returns a Manager.
func New(cfg Config, ix Index, log *slog.Logger) *Manager {
	if cfg.MinFreeBytes == 0 {
		cfg.MinFreeBytes = 256 << 20
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{cfg: cfg, ix: ix, log: log}
}

// Status returns the state found by the last check.
func (m *Manager) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status
}

// Run checks the limits every Interval until ctx is done.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := m.RunOnce(time.Now()); err != nil {
			m.log.Error("storage check failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type recording struct {
	c    *index.Call
	size int64
}

// Report says what one check deleted.
type Report struct {
	Deleted []string // IDs
	Freed   int64
}

// RunOnce applies retention and the space limits at now.
func (m *Manager) RunOnce(now time.Time) (Report, error) {
	var rep Report
	var recs []recording
	var used int64
	err := m.ix.List(func(c *index.Call) error {
		if !c.Recorded || c.File == "" || !c.Deleted.IsZero() || c.EndReason == "in-progress" {
			return nil
		}
		size := c.Size
		if size == 0 {
			if st, err := os.Stat(datadir.Layout(m.cfg.DataDir).Abs(c.File)); err == nil {
				size = st.Size()
			}
		}
		recs = append(recs, recording{c: c, size: size})
		used += size
		return nil
	})
	if err != nil {
		return rep, err
	}
	// Oldest first (IDs start with the start time).
	sort.Slice(recs, func(i, j int) bool { return recs[i].c.ID < recs[j].c.ID })
	// A call's raw media goes with its WAV: it is deleted with it and
	// only when both may go.
	companion := map[string]*recording{}
	owners := map[string]bool{}
	for i := range recs {
		owners[recs[i].c.ID] = true
	}
	for i := range recs {
		if of := recs[i].c.RawOf; of != "" && owners[of] {
			companion[of] = &recs[i]
		}
	}
	isCompanion := func(r recording) bool { return r.c.RawOf != "" && owners[r.c.RawOf] }
	base := func(r recording) bool { return !r.c.Offloaded.IsZero() || m.cfg.DeleteUnoffloaded }
	may := func(r recording) bool {
		if isCompanion(r) {
			return false // goes with its owner
		}
		if raw := companion[r.c.ID]; raw != nil && !base(*raw) {
			return false
		}
		return base(r)
	}
	gone := make(map[string]bool)
	remove := func(r recording, reason string) {
		for _, x := range []*recording{&r, companion[r.c.ID]} {
			if x == nil {
				continue
			}
			if err := m.delete(x.c, reason, now); err != nil {
				m.log.Error("cannot delete recording", "id", x.c.ID, "err", err)
				m.setError(err)
				return
			}
			gone[x.c.ID] = true
			used -= x.size
			rep.Deleted = append(rep.Deleted, x.c.ID)
			rep.Freed += x.size
		}
	}
	if m.cfg.MaxAge > 0 {
		for _, r := range recs {
			end := r.c.End
			if end.IsZero() {
				end = r.c.Start
			}
			if now.Sub(end) > m.cfg.MaxAge && may(r) {
				remove(r, fmt.Sprintf("retention: older than %s", days(m.cfg.MaxAge)))
			}
		}
	}
	free, total := m.space()
	for _, r := range recs {
		overQuota := m.cfg.MaxBytes > 0 && used > m.cfg.MaxBytes
		lowSpace := m.lowSpace(free, total)
		if !overQuota && !lowSpace {
			break
		}
		if gone[r.c.ID] || !may(r) {
			continue
		}
		reason := "quota: storage limit reached, oldest offloaded recording deleted"
		if lowSpace {
			reason = "disk full: free space below the minimum, oldest offloaded recording deleted"
		}
		if r.c.Offloaded.IsZero() {
			reason += " (not offloaded: delete_unoffloaded_when_full is set)"
		}
		remove(r, reason)
		free, total = m.space()
	}
	overQuota := m.cfg.MaxBytes > 0 && used > m.cfg.MaxBytes
	full := overQuota || m.lowSpace(free, total)
	near := full || (m.cfg.MaxBytes > 0 && used > m.cfg.MaxBytes/10*9) ||
		(m.cfg.MinFreeBytes > 0 && total > 0 && free < uint64(m.cfg.MinFreeBytes)+total/10)
	m.mu.Lock()
	m.status.UsedBytes, m.status.Recordings = used, len(recs)-len(gone)
	m.status.FreeBytes, m.status.TotalBytes = free, total
	m.status.NearFull, m.status.Full = near, full
	m.status.Deleted += uint64(len(rep.Deleted))
	m.mu.Unlock()
	if full {
		m.log.Warn("storage full and nothing may be deleted: recordings not yet offloaded are kept",
			"used", used, "free", free, "max_bytes", m.cfg.MaxBytes, "min_free", m.cfg.MinFreeBytes)
	}
	return rep, nil
}

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

func (m *Manager) setError(err error) {
	m.mu.Lock()
	m.status.LastError = err.Error()
	m.mu.Unlock()
}

// lowSpace reports whether free space is below the floor (a negative
// MinFreeBytes disables the floor).
func (m *Manager) lowSpace(free, total uint64) bool {
	return m.cfg.MinFreeBytes > 0 && total > 0 && free < uint64(m.cfg.MinFreeBytes)
}

// space returns the free and total bytes of the data directory's
// filesystem (0, 0 when unknown).
func (m *Manager) space() (free, total uint64) { return datadir.Space(m.cfg.DataDir) }

// delete removes a recording's file and chains the deletion: with the
// proof of its verified copy when it was offloaded, else as deleted
// unoffloaded (only DeleteUnoffloaded lets such a recording go).
func (m *Manager) delete(c *index.Call, reason string, now time.Time) error {
	proof := index.DeletionProof{Kind: index.ProofUnoffloaded, Reason: reason}
	if !c.Offloaded.IsZero() {
		proof = index.OffloadProof(c, reason)
	}
	if err := proof.Validate(c); err != nil {
		return fmt.Errorf("storage: %s kept: %w", c.ID, err)
	}
	c.DeleteReason = reason
	return m.remove(c, now, func() error { return m.ix.MarkDeleted(c.ID, proof, now) })
}

// remove deletes a recording's files, then runs mark to chain the
// deletion. (The raw media of a WAV has an entry of its own, deleted with
// it; an entry of an older version names its unsigned raw RTP in RawRTP
// alone, and that goes with the entry.)
func (m *Manager) remove(c *index.Call, now time.Time, mark func() error) error {
	files := []string{c.File}
	if c.RawID == "" && c.RawRTP != "" {
		files = append(files, c.RawRTP)
	}
	for _, rel := range files {
		if rel == "" {
			continue
		}
		err := os.Remove(datadir.Layout(m.cfg.DataDir).Abs(rel))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := mark(); err != nil {
		return err
	}
	m.log.Info("recording deleted", "id", c.ID, "file", c.File, "reason", c.DeleteReason)
	return nil
}

// AdminDelete deletes the recording id (and its raw media, or the WAV it
// belongs to) at admin's request, offloaded or not: each deletion is
// chained with a proof naming the audit log entry that records it.
func (m *Manager) AdminDelete(id, admin string, now time.Time) error {
	if admin == "" {
		return fmt.Errorf("storage: admin delete %s: %w: no admin named", id, index.ErrInvalid)
	}
	c, err := m.ix.Get(id)
	if err != nil {
		return err
	}
	if !c.Recorded || c.File == "" {
		return fmt.Errorf("storage: admin delete %s: %w: no recording file", id, index.ErrInvalid)
	}
	group := []*index.Call{c}
	if partner := c.RawID + c.RawOf; partner != "" {
		if p, err := m.ix.Get(partner); err == nil && p.Deleted.IsZero() && p.Recorded {
			group = append(group, p)
		}
	}
	for _, g := range group {
		if !g.Deleted.IsZero() {
			continue
		}
		g.DeleteReason = "admin: deleted by " + admin
		if err := m.remove(g, now, func() error { return m.ix.MarkDeletedByAdmin(g.ID, admin, now) }); err != nil {
			return err
		}
	}
	return nil
}

// OffloadSource is the offloader's view of the data directory and index.
type OffloadSource struct {
	offload.DataDir
	ix Index
	m  *Manager
	// anchor is the record of the last Anchor, until it is written.
	anchor *anchor.Record
}

// NewOffloadSource returns the Source for offload.New over dataDir; m (may
// be nil) records deletions after a verified offload.
func NewOffloadSource(dataDir string, ix Index, m *Manager) *OffloadSource {
	if m == nil {
		m = New(Config{DataDir: dataDir}, ix, nil)
	}
	return &OffloadSource{DataDir: offload.DataDir(dataDir), ix: ix, m: m}
}

// Pending lists finished recordings not yet offloaded, oldest first.
func (s *OffloadSource) Pending(ctx context.Context) ([]offload.Item, error) {
	var out []offload.Item
	err := s.ix.List(func(c *index.Call) error {
		if c.Recorded && c.File != "" && c.SHA256 != "" && c.Offloaded.IsZero() && c.Deleted.IsZero() {
			out = append(out, offload.Item{ID: c.ID, File: c.File, SHA256: c.SHA256, Size: c.Size})
		}
		return ctx.Err()
	})
	return out, err
}

// Manifest is the JSON of the recording's index entry.
func (s *OffloadSource) Manifest(_ context.Context, it offload.Item) ([]byte, error) {
	c, err := s.ix.Get(it.ID)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(c, "", "  ")
}

// MarkOffloaded records the verified copy in the index.
func (s *OffloadSource) MarkOffloaded(_ context.Context, id, remote string, at time.Time) error {
	return s.ix.MarkOffloaded(id, remote, at)
}

// DeleteLocal deletes the local copy after a verified offload, chaining
// the deletion. A WAV and its raw media go together, once both are
// offloaded: the first of them to be copied waits for the other.
func (s *OffloadSource) DeleteLocal(_ context.Context, it offload.Item) error {
	c, err := s.ix.Get(it.ID)
	if err != nil {
		return err
	}
	group := []*index.Call{c}
	if partner := c.RawID + c.RawOf; partner != "" {
		p, err := s.ix.Get(partner)
		switch {
		case errors.Is(err, index.ErrNotFound):
		case err != nil:
			return err
		case !p.Deleted.IsZero():
		case p.Offloaded.IsZero() && p.Recorded && p.SHA256 != "":
			s.m.log.Info("offloaded; kept until the rest of its call is offloaded too", "id", c.ID, "waits_for", p.ID)
			return nil
		default:
			group = append(group, p)
		}
	}
	for _, g := range group {
		if err := s.m.delete(g, "offloaded: deleted locally after a verified copy", time.Now()); err != nil {
			return err
		}
	}
	return nil
}

// Anchor returns the signed record of the chain head, listing the entries
// since the last anchor written, or "" when the head is anchored already.
func (s *OffloadSource) Anchor(_ context.Context, at time.Time) (string, []byte, error) {
	last, err := anchor.Last(s.ix)
	if err != nil {
		s.m.log.Warn("last anchor unreadable; anchoring the whole chain", "err", err)
		last = nil
	}
	rec, err := anchor.Build(s.ix, last, at)
	if err != nil || rec == nil {
		return "", nil, err
	}
	priv, _, err := keys.LoadOrCreate(string(s.DataDir))
	if err != nil {
		return "", nil, err
	}
	data, err := anchor.Sign(rec, priv)
	if err != nil {
		return "", nil, err
	}
	s.anchor = rec
	return rec.Name(), data, nil
}

// AnchorWritten records in the index that the anchor of the last Anchor
// call was written, verified, to remote.
func (s *OffloadSource) AnchorWritten(_ context.Context, name, remote string, _ time.Time) error {
	r := s.anchor
	if r == nil || r.Name() != name {
		return fmt.Errorf("storage: anchor %s was not built here", name)
	}
	s.anchor = nil
	return anchor.Store(s.ix, anchor.Written{Name: name, Remote: remote, Time: r.Time, Seq: r.Seq, Head: r.Head})
}
