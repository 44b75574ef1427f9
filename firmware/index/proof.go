package index

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// Kinds of DeletionProof.
const (
	// ProofOffloaded: the file was deleted after a verified copy (by the
	// offloader, or by retention once it had been offloaded).
	ProofOffloaded = "offloaded"
	// ProofAdmin: an admin deleted it; the audit log holds the command.
	ProofAdmin = "admin"
	// ProofUnoffloaded: storage was full and delete_unoffloaded_when_full
	// let it go before any copy existed. Nothing off the box proves what
	// it held.
	ProofUnoffloaded = "unoffloaded"
)

// AdminDeleteCommand is the audit log command of an admin deletion of id.
func AdminDeleteCommand(id string) string { return "recordings delete " + id }

// DeletionProof says why a recording's file may be gone. It is part of the
// deletion entry and of its hash, so once an anchor covers the entry it
// cannot be changed.
type DeletionProof struct {
	// Kind is ProofOffloaded, ProofAdmin or ProofUnoffloaded.
	Kind string `json:"kind"`
	// Reason is why, for people: "retention: older than 90 days", ...
	Reason string `json:"reason"`
	// Target is where the verified copy is: the URL (no credentials) the
	// offloader reported, e.g. "sftp://rec@nas:22/spanrec/recordings/...".
	Target string `json:"target,omitempty"`
	// Path is the copy's name relative to the target's base directory.
	Path string `json:"path,omitempty"`
	// SHA256 is the verified copy's hash: the recording's own.
	SHA256 string `json:"sha256,omitempty"`
	// Admin is who deleted it (ProofAdmin), AuditSeq the audit log entry
	// that records the command.
	Admin    string `json:"admin,omitempty"`
	AuditSeq uint64 `json:"audit_seq,omitempty"`
}

// OffloadProof is the proof of a file deleted after a verified copy of c.
func OffloadProof(c *Call, reason string) DeletionProof {
	return DeletionProof{Kind: ProofOffloaded, Reason: reason, Target: c.Remote, Path: c.File, SHA256: c.SHA256}
}

// Validate reports whether the proof may be chained for a deletion of c:
// its shape (see VerifyChain) and, for a copy, that c is marked offloaded
// there. Callers check it before they remove the file.
func (p *DeletionProof) Validate(c *Call) error {
	if what := p.check(c.SHA256); what != "" {
		return fmt.Errorf("%w: deletion proof: %s", ErrInvalid, what)
	}
	if p.Kind == ProofOffloaded && (c.Offloaded.IsZero() || p.Target != c.Remote) {
		return fmt.Errorf("%w: proof names copy %q, the recording is offloaded to %q", ErrInvalid, p.Target, c.Remote)
	}
	return nil
}

// check returns "" when the proof has the shape its kind needs for a
// deletion of a file whose hash is sha, else what is wrong.
func (p *DeletionProof) check(sha string) string {
	if p.Reason == "" || strings.IndexByte(p.Reason, 0) >= 0 {
		return "no reason given"
	}
	switch p.Kind {
	case ProofOffloaded:
		u, err := url.Parse(p.Target)
		switch {
		case p.Target == "" || err != nil || u.Scheme == "":
			return fmt.Sprintf("offload target %q is not a URL", p.Target)
		case !validFile(p.Path):
			return fmt.Sprintf("remote path %q is not a relative path", p.Path)
		case !namesPath(u.Path, p.Path):
			return fmt.Sprintf("offload target %q does not name the remote path %q", p.Target, p.Path)
		case p.SHA256 != sha:
			return fmt.Sprintf("the copy's sha256 %q is not the recording's %s", p.SHA256, sha)
		}
	case ProofAdmin:
		if p.Admin == "" || strings.IndexByte(p.Admin, 0) >= 0 || p.AuditSeq == 0 {
			return "admin deletion without the admin's name and audit log entry"
		}
	case ProofUnoffloaded:
	default:
		return fmt.Sprintf("unknown kind %q", p.Kind)
	}
	return ""
}

// namesPath tells whether a copy's URL path names the remote path: it
// ends with "/"+path (a share: dir, sftp, smb), or, for a recording, with
// "/"+path less its "recordings/" folder (an object store, whose keys are
// PREFIX/YYYY/MM/DD/<id>.wav under the appliance's prefix).
func namesPath(urlPath, path string) bool {
	if strings.HasSuffix(urlPath, "/"+path) {
		return true
	}
	rest, ok := strings.CutPrefix(path, "recordings/")
	return ok && strings.HasSuffix(urlPath, "/"+rest)
}

// parts is the proof as the strings its entry's hash covers.
func (p *DeletionProof) parts() []string {
	return []string{"proof", p.Kind, p.Reason, p.Target, p.Path, p.SHA256, p.Admin, strconv.FormatUint(p.AuditSeq, 10)}
}

// ComputeHash returns the entry's hash over prev and its contents: the
// EntryHash of prev, ID, File and SHA256, extended (for a deletion with a
// proof) by the proof's fields, all joined by NUL bytes.
func (e *ChainEntry) ComputeHash(prev string) string {
	if e.Proof == nil {
		return EntryHash(prev, e.ID, e.File, e.SHA256)
	}
	h := sha256.New()
	for i, s := range append([]string{prev, e.ID, e.File, e.SHA256}, e.Proof.parts()...) {
		if i > 0 {
			h.Write([]byte{0})
		}
		io.WriteString(h, s)
	}
	return hex.EncodeToString(h.Sum(nil))
}
