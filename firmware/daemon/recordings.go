package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"spanrec/firmware/control"
	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/firmware/keys"
	"spanrec/firmware/recorder"
	"spanrec/firmware/users"
	"spanrec/media/sign"
)

// Recordings are the index's recordings as the console and the web UI
// see them (control.Recordings): a quarantined recording is an admin's
// only (users.ViewQuarantined); to anyone else it does not exist.
type Recordings struct {
	ix      *index.Index
	dataDir string
	deleter RecordingDeleter
	log     *slog.Logger
}

// Search implements control.Recordings.
func (r *Recordings) Search(viewer users.Role, q index.Query) ([]index.Call, error) {
	q.Quarantined = users.Can(viewer, users.ViewQuarantined)
	return r.ix.Search(q)
}

// Get implements control.Recordings.
func (r *Recordings) Get(viewer users.Role, id string) (index.Call, error) {
	c, err := r.ix.Get(id)
	if err != nil {
		return index.Call{}, err
	}
	if c.Quarantined && !users.Can(viewer, users.ViewQuarantined) {
		return index.Call{}, fmt.Errorf("index: get %s: %w", id, index.ErrNotFound)
	}
	return *c, nil
}

// Verify implements control.Recordings: one recording (index.
// VerifyRecording) or, for "all", the whole chain, every recording and
// the audit log (index.VerifyAll), the signatures against the data
// directory's public key.
func (r *Recordings) Verify(ctx context.Context, viewer users.Role, id string) (control.Verification, error) {
	pub, err := keys.LoadPublic(datadir.Layout(r.dataDir).PublicKey())
	if err != nil {
		return control.Verification{}, fmt.Errorf("public key: %w", err)
	}
	v := control.Verification{ID: id, Key: keys.Fingerprint(pub)}
	check := func(path string) error { return sign.VerifyFile(path, pub) }
	if id == control.AllCalls {
		v.Problems, v.Checked, err = r.ix.VerifyAll(ctx, r.dataDir, check, users.Can(viewer, users.ViewQuarantined))
	} else if _, err = r.Get(viewer, id); err == nil {
		v.Problems, v.Checked, err = r.ix.VerifyRecording(ctx, r.dataDir, id, check)
	}
	v.Valid = err == nil && len(v.Problems) == 0
	return v, err
}

// Delete implements control.Recordings. A recording still being written
// is refused: it ends with its call.
func (r *Recordings) Delete(id, by string) error {
	if r.deleter == nil {
		return fmt.Errorf("deleting recordings %w", control.ErrNotConfigured)
	}
	c, err := r.ix.Get(id)
	if err != nil {
		return err
	}
	switch {
	case !c.Deleted.IsZero():
		return fmt.Errorf("recording %s: %w: already deleted (%s)", id, control.ErrConflict, c.DeleteReason)
	case c.EndReason == recorder.InProgress:
		return fmt.Errorf("recording %s: %w: still being recorded", id, control.ErrConflict)
	case !c.Recorded || c.File == "":
		return fmt.Errorf("recording %s: %w: the call has no recording file", id, control.ErrConflict)
	}
	if err := r.deleter.AdminDelete(id, by, time.Now()); err != nil {
		return err
	}
	r.log.Warn("recording deleted by an admin", "id", id, "by", by)
	return nil
}

// Open opens a recording's file the viewer may see (its index entry's
// File, inside the data directory only) for the web UI's playback and
// download; index.ErrNotFound when the entry has no file or it was
// deleted.
func (r *Recordings) Open(viewer users.Role, id string) (*os.File, error) {
	c, err := r.Get(viewer, id)
	if err != nil {
		return nil, err
	}
	if c.File == "" || !c.Deleted.IsZero() {
		return nil, fmt.Errorf("%w: recording %s has no file", index.ErrNotFound, id)
	}
	f, err := os.OpenInRoot(r.dataDir, filepath.FromSlash(c.File))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %v", index.ErrNotFound, err)
	}
	return f, err
}
