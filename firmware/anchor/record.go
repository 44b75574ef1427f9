package anchor

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"spanrec/firmware/keys"
)

// Format is the record's format name, also the prefix of the signed bytes.
const Format = "spanrec-anchor/1"

// Dir is the folder of the anchors on the share, relative to its base.
const Dir = "anchors"

// MaxSize bounds an anchor file (some 250,000 covered entries).
const MaxSize = 64 << 20

// Errors of Parse; test with errors.Is.
var (
	// ErrFormat means the file is not a well-formed anchor.
	ErrFormat = errors.New("anchor: not a valid anchor file")
	// ErrKey means the anchor was signed by another key than the one it
	// is checked against.
	ErrKey = errors.New("anchor: signed by another key")
	// ErrSignature means the signature does not match the record.
	ErrSignature = errors.New("anchor: signature invalid")
)

// Entry is one chain entry as anchored.
type Entry struct {
	Seq    uint64 `json:"seq"`
	ID     string `json:"id"`
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
	Hash   string `json:"hash"`
}

// Record is the signed content of an anchor (see the package doc).
type Record struct {
	Format  string    `json:"format"`
	KeyID   string    `json:"key_id"`
	Time    time.Time `json:"time"`
	Seq     uint64    `json:"seq"`
	Entries uint64    `json:"entries"`
	Head    string    `json:"head"`
	From    uint64    `json:"from"`
	Covered []Entry   `json:"covered"`
}

// file is an anchor file: the record and its signature.
type file struct {
	Record    json.RawMessage `json:"record"`
	Signature string          `json:"signature"`
}

// Name is the anchor's path on the share, relative to its base.
func (r *Record) Name() string {
	return path.Join(Dir, fmt.Sprintf("%s-%012d.json", r.Time.UTC().Format("20060102T150405Z"), r.Seq))
}

// signed is what the signature covers.
func signed(compact []byte) []byte {
	return append([]byte(Format+"\n"), compact...)
}

// Sign sets r's Format and KeyID, checks it and returns the anchor file.
func Sign(r *Record, priv ed25519.PrivateKey) ([]byte, error) {
	r.Format = Format
	r.KeyID = keys.Fingerprint(priv.Public().(ed25519.PublicKey))
	r.Time = r.Time.UTC()
	if err := r.validate(); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("anchor: %w", err)
	}
	sig := ed25519.Sign(priv, signed(raw))
	return json.MarshalIndent(file{Record: raw, Signature: base64.StdEncoding.EncodeToString(sig)}, "", " ")
}

// Parse reads an anchor file and checks its signature against pub. Every
// error wraps ErrFormat, ErrKey or ErrSignature and says what is wrong.
func Parse(data []byte, pub ed25519.PublicKey) (*Record, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrFormat, len(data), MaxSize)
	}
	var f file
	if err := strictJSON(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if len(f.Record) == 0 || f.Signature == "" {
		return nil, fmt.Errorf("%w: record or signature missing", ErrFormat)
	}
	var r Record
	if err := strictJSON(f.Record, &r); err != nil {
		return nil, fmt.Errorf("%w: record: %v", ErrFormat, err)
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	sig, err := base64.StdEncoding.DecodeString(f.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: signature is not %d bytes of base64", ErrFormat, ed25519.SignatureSize)
	}
	if id := keys.Fingerprint(pub); r.KeyID != id {
		return nil, fmt.Errorf("%w: key %s, not %s", ErrKey, r.KeyID, id)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, f.Record); err != nil {
		return nil, fmt.Errorf("%w: record: %v", ErrFormat, err)
	}
	if !ed25519.Verify(pub, signed(compact.Bytes()), sig) {
		return nil, fmt.Errorf("%w (key %s)", ErrSignature, r.KeyID)
	}
	return &r, nil
}

// strictJSON decodes one JSON value, refusing unknown fields and trailing
// data.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	return nil
}

// validate checks the record's shape.
func (r *Record) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, a...))
	}
	switch {
	case r.Format != Format:
		return bad("format %q, want %q", r.Format, Format)
	case !isHex(r.KeyID, 16):
		return bad("key_id %q", r.KeyID)
	case r.Time.IsZero() || r.Time.Year() < 2000 || r.Time.Year() > 9999:
		return bad("time %s", r.Time)
	case r.Seq == 0:
		return bad("seq 0: an anchor covers at least one entry")
	case r.Entries != r.Seq:
		return bad("entries %d, but seq %d (entries are numbered from 1 without gaps)", r.Entries, r.Seq)
	case !isHex(r.Head, 64):
		return bad("head %q", r.Head)
	case r.From == 0 || r.From > r.Seq:
		return bad("from %d outside 1..%d", r.From, r.Seq)
	case uint64(len(r.Covered)) != r.Seq-r.From+1:
		return bad("%d covered entries, from %d to seq %d needs %d", len(r.Covered), r.From, r.Seq, r.Seq-r.From+1)
	}
	for i, e := range r.Covered {
		switch {
		case e.Seq != r.From+uint64(i):
			return bad("covered entry %d has seq %d, want %d", i, e.Seq, r.From+uint64(i))
		case e.ID == "" || strings.IndexByte(e.ID, 0) >= 0:
			return bad("covered entry seq %d: id %q", e.Seq, e.ID)
		case strings.IndexByte(e.File, 0) >= 0:
			return bad("covered entry seq %d: file %q", e.Seq, e.File)
		case !isHex(e.SHA256, 64) || !isHex(e.Hash, 64):
			return bad("covered entry seq %d: sha256 %q hash %q", e.Seq, e.SHA256, e.Hash)
		}
	}
	if last := r.Covered[len(r.Covered)-1]; last.Hash != r.Head {
		return bad("head %s is not the hash of the last covered entry (%s)", r.Head, last.Hash)
	}
	return nil
}

// isHex reports whether s is n lowercase hex digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
