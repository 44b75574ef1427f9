package engine

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"spanrec/firmware/anchor"
	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/firmware/rawmedia"
	"spanrec/firmware/recorder"
	"spanrec/media/sign"
)

// legacyRawExt is the raw RTP of versions before raw media was signed.
const legacyRawExt = ".rtp.pcap"

// VerifyReport is what Verify found in a data directory.
type VerifyReport struct {
	Recordings int             // recordings of the hash chain checked
	Files      int             // files under recordings/ looked at
	Problems   []index.Problem // every problem; none when all is well
	// Anchors is what the anchors said, when VerifyOptions.AnchorDir was
	// given (its problems are in Problems too).
	Anchors *anchor.Result
}

// VerifyOptions are Verify's optional checks.
type VerifyOptions struct {
	// AnchorDir, when set, is a copy of the offload share (a mounted
	// share, or a directory copied from it): the chain is checked against
	// every anchor under AnchorDir/anchors, and offloaded copies named by
	// deletion proofs must be there.
	AnchorDir string
}

// Verify checks a whole data directory: the index's hash chain and every
// chained recording's file and signature (index.VerifyChain); every entry
// still marked in progress (a crash that the next start repairs); and every
// file under recordings/ that no index entry names, or that is not signed;
// with opts.AnchorDir, the chain against the anchors on the share
// (anchor.Verify).
// The index must not be open elsewhere (a running daemon holds it).
func Verify(ctx context.Context, dataDir string, pub ed25519.PublicKey, opts VerifyOptions) (VerifyReport, error) {
	var rep VerifyReport
	if _, err := os.Stat(datadir.Layout(dataDir).Index()); err != nil {
		return rep, fmt.Errorf("no index in %s: %w", dataDir, err)
	}
	ix, err := index.Open(datadir.Layout(dataDir).Index())
	if err != nil {
		return rep, err
	}
	defer ix.Close()
	checked := map[string]bool{}
	problems, err := ix.VerifyChainContext(ctx, dataDir, func(path string) error {
		rep.Recordings++
		checked[path] = true
		return sign.VerifyFile(path, pub)
	})
	if err != nil {
		return rep, err
	}
	rep.Problems = problems
	named, reported := map[string]bool{}, map[string]bool{}
	abs := datadir.Layout(dataDir).Abs
	err = ix.List(func(c *index.Call) error {
		for _, f := range []string{c.File, c.RawRTP} {
			if f != "" {
				named[abs(f)] = true
			}
		}
		what := ""
		switch {
		case c.EndReason == recorder.InProgress:
			what = "recording still in progress: interrupted by a crash or power cut (the next start of spanrec run or import repairs it)"
		case !c.Recorded && c.File != "" && c.SHA256 == "":
			what = "partial file of a failed recording, not signed yet (the next start repairs it): " + c.Reason
		}
		if what != "" {
			rep.Problems = append(rep.Problems, index.Problem{ID: c.ID, File: c.File, What: what})
			reported[abs(c.File)] = true
		}
		return ctx.Err()
	})
	if err != nil {
		return rep, err
	}
	root := datadir.Layout(dataDir).Recordings()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rep.Files++
		rel, _ := filepath.Rel(dataDir, p)
		rel = filepath.ToSlash(rel)
		signed := strings.HasSuffix(p, ".wav") || strings.HasSuffix(p, rawmedia.Ext)
		if !named[p] {
			what := "file not in the index"
			if signed && sign.VerifyFile(p, pub) != nil {
				what = "file not in the index and not signed (the next start repairs it)"
			}
			rep.Problems = append(rep.Problems, index.Problem{File: rel, What: what})
			return nil
		}
		if strings.HasSuffix(p, legacyRawExt) {
			rep.Problems = append(rep.Problems, index.Problem{File: rel,
				What: "raw RTP kept by an older version: neither signed nor in the hash chain, so changes to it cannot be detected"})
			return nil
		}
		if signed && !checked[p] && !reported[p] {
			if err := sign.VerifyFile(p, pub); err != nil {
				rep.Problems = append(rep.Problems, index.Problem{File: rel, What: fmt.Sprintf("signature: %v", err)})
			}
		}
		return nil
	})
	if err != nil || opts.AnchorDir == "" {
		return rep, err
	}
	var chain []index.ChainEntry
	if err := ix.Chain(func(e *index.ChainEntry) error {
		chain = append(chain, *e)
		return ctx.Err()
	}); err != nil {
		return rep, err
	}
	res, err := anchor.Verify(opts.AnchorDir, pub, chain)
	if err != nil {
		return rep, err
	}
	rep.Anchors = &res
	rep.Problems = append(rep.Problems, res.Problems...)
	return rep, nil
}
