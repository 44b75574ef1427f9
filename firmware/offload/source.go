package offload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"spanrec/firmware/datadir"
)

// ErrItem is returned for an Item whose ID, File, SHA256 or Size is not
// acceptable.
var ErrItem = errors.New("offload: invalid item")

// Item is one recording waiting to be offloaded, as its index entry
// describes it.
type Item struct {
	// ID is the call ID, e.g. "20261125T144422Z-3fa2c1d0".
	ID string
	// File is the recording's path relative to the data directory, with
	// forward slashes, e.g. "recordings/2026/11/25/<id>.wav". The copy on
	// the target has the same relative path.
	File string
	// SHA256 is the lowercase hex SHA-256 of the file.
	SHA256 string
	// Size is the file's size in bytes.
	Size int64
}

// Validate checks that it can be copied safely: an ID of letters, digits,
// '-', '_' and '.', a clean relative File, a 64-digit lowercase hex
// SHA256 and a non-negative Size.
func (it Item) Validate() error {
	if it.ID == "" || len(it.ID) > 128 || it.ID[0] == '.' {
		return fmt.Errorf("%w: id %q", ErrItem, it.ID)
	}
	for _, r := range it.ID {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("%w: id %q", ErrItem, it.ID)
		}
	}
	f, err := cleanRemote(it.File, false)
	if err != nil || f != it.File || strings.HasPrefix(path.Base(f), ".") {
		return fmt.Errorf("%w: %s: file %q", ErrItem, it.ID, it.File)
	}
	if len(it.SHA256) != 64 || strings.Trim(it.SHA256, "0123456789abcdef") != "" {
		return fmt.Errorf("%w: %s: sha256 %q", ErrItem, it.ID, it.SHA256)
	}
	if it.Size < 0 {
		return fmt.Errorf("%w: %s: size %d", ErrItem, it.ID, it.Size)
	}
	return nil
}

// ManifestName is the target path of the item's manifest: <id>.json next
// to the recording.
func (it Item) ManifestName() string { return path.Join(path.Dir(it.File), it.ID+".json") }

// PublicKeyName is the target path of the appliance's public key, at the
// root of the target's base directory.
const PublicKeyName = "spanrec.pub"

// Source is what the Offloader needs from the rest of the appliance
// (implemented by the caller over the index and the data directory).
// Methods may be called from the Offloader's goroutine only, one at a
// time.
type Source interface {
	// Pending lists the recordings not yet offloaded, oldest first.
	Pending(ctx context.Context) ([]Item, error)
	// Open opens the local recording of it.
	Open(ctx context.Context, it Item) (io.ReadCloser, error)
	// Manifest returns the JSON of it's index entry, written to the
	// target as <id>.json.
	Manifest(ctx context.Context, it Item) ([]byte, error)
	// PublicKey returns the appliance's public key file (spanrec.pub).
	PublicKey(ctx context.Context) ([]byte, error)
	// MarkOffloaded records that the recording id has been copied and
	// verified at remote (a URL without credentials) at time at.
	MarkOffloaded(ctx context.Context, id, remote string, at time.Time) error
	// DeleteLocal removes the local recording of it; called only with
	// Config.DeleteAfterOffload, after MarkOffloaded succeeded.
	DeleteLocal(ctx context.Context, it Item) error
}

// AnchorSource is a Source that keeps a hash chain of its recordings:
// at the end of every run, the Offloader writes its signed head (an
// anchor) to the target, so that history up to it cannot be rewritten on
// the appliance later without the anchor showing it.
type AnchorSource interface {
	Source
	// Anchor returns the signed anchor of the chain head at time at: its
	// name on the target (a clean relative path) and its content; name
	// is "" when that head is anchored already.
	Anchor(ctx context.Context, at time.Time) (name string, data []byte, err error)
	// AnchorWritten records that the anchor name of the last Anchor call
	// was written and verified at remote (a URL without credentials).
	AnchorWritten(ctx context.Context, name, remote string, at time.Time) error
}

// DataDir implements the file side of Source (Open, PublicKey,
// DeleteLocal) over a spanrec data directory; embed it in a type that
// adds Pending, Manifest and MarkOffloaded from the index.
type DataDir string

// path resolves it.File under the data directory.
func (d DataDir) path(it Item) (string, error) {
	f, err := cleanRemote(it.File, false)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrItem, it.ID, err)
	}
	return datadir.Layout(d).Abs(f), nil
}

// Open opens the recording of it.
func (d DataDir) Open(_ context.Context, it Item) (io.ReadCloser, error) {
	p, err := d.path(it)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// PublicKey reads keys/spanrec.pub.
func (d DataDir) PublicKey(_ context.Context) ([]byte, error) {
	return os.ReadFile(datadir.Layout(string(d)).PublicKey())
}

// DeleteLocal removes the recording of it; an already missing file is
// not an error.
func (d DataDir) DeleteLocal(_ context.Context, it Item) error {
	p, err := d.path(it)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
