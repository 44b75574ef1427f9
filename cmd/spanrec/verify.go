package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"

	"spanrec/firmware/anchor"
	"spanrec/firmware/datadir"
	"spanrec/firmware/engine"
	"spanrec/firmware/keys"
	"spanrec/media/sign"
)

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", "[FILE.wav...]", stderr)
	data := fs.String("data", "", "data directory whose public key (and, with --all, index) to use (default ./var)")
	pubFile := fs.String("pubkey", "", "public key file (PEM) to verify against")
	all := fs.Bool("all", false, "verify every recording in the index and its hash chain")
	anchorDir := fs.String("anchor", "", "with --all: a copy of the offload share (mounted or copied); check the chain against every anchored head in DIR/anchors and deleted recordings' copies")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *data != "" && *pubFile != "" {
		fmt.Fprintln(stderr, "spanrec verify: give --data or --pubkey, not both")
		return errUsage
	}
	if *anchorDir != "" && !*all {
		fmt.Fprintln(stderr, "spanrec verify: --anchor needs --all")
		return errUsage
	}
	if !*all && fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	dataDir := *data
	if dataDir == "" {
		dataDir = defaultDataDir
	}
	keyPath := *pubFile
	if keyPath == "" {
		keyPath = datadir.Layout(dataDir).PublicKey()
	}
	pub, err := keys.LoadPublic(keyPath)
	if err != nil {
		return fmt.Errorf("public key: %w", err)
	}
	bad := 0
	for _, path := range fs.Args() {
		if err := sign.VerifyFile(path, pub); err != nil {
			bad++
			fmt.Fprintf(stdout, "%s: INVALID: %v\n", path, err)
			continue
		}
		fmt.Fprintf(stdout, "%s: valid (signed by key %s)\n", path, keys.Fingerprint(pub))
	}
	if *all {
		n, err := verifyAll(ctx, dataDir, pub, *anchorDir, stdout)
		if err != nil {
			return err
		}
		bad += n
	}
	if bad > 0 {
		return exitError{code: 1}
	}
	return nil
}

func verifyAll(ctx context.Context, dataDir string, pub ed25519.PublicKey, anchorDir string, stdout io.Writer) (int, error) {
	rep, err := engine.Verify(ctx, dataDir, pub, engine.VerifyOptions{AnchorDir: anchorDir})
	if err != nil {
		return 0, err
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "INVALID: %s\n", p)
	}
	if len(rep.Problems) == 0 {
		fmt.Fprintf(stdout, "index %s: %d recordings, every signature valid, hash chain intact; %d files, every one indexed and signed\n",
			datadir.Layout(dataDir).Index(), rep.Recordings, rep.Files)
	} else {
		fmt.Fprintf(stdout, "index %s: %d problems\n", datadir.Layout(dataDir).Index(), len(rep.Problems))
	}
	writeAnchors(stdout, rep.Anchors, len(rep.Problems) == 0)
	return len(rep.Problems), nil
}

// writeAnchors sums up the check against the anchors (a nil: none asked).
func writeAnchors(stdout io.Writer, a *anchor.Result, clean bool) {
	switch {
	case a == nil:
	case a.Last == nil:
		fmt.Fprintf(stdout, "anchors %s: none valid\n", a.Dir)
	default:
		as := "as anchored"
		if !clean {
			as = "checked"
		}
		fmt.Fprintf(stdout, "anchors %s: %d valid; the chain up to the last, %s (entries 1..%d, head %.16s, written %s), %s",
			a.Dir, a.Anchors, a.LastName, a.Last.Seq, a.Last.Head, a.Last.Time.Format("2006-01-02 15:04:05Z"), as)
		if a.Local > a.Last.Seq {
			fmt.Fprintf(stdout, "; entries %d..%d are not anchored yet", a.Last.Seq+1, a.Local)
		}
		fmt.Fprintln(stdout)
	}
}
