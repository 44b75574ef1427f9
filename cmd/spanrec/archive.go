package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"spanrec/firmware/archive"
	"spanrec/firmware/config"
	"spanrec/firmware/offload"
)

// runArchive is `spanrec archive list|verify --target CONFIG`: the fleet
// archive in an s3 bucket, read from any machine with its credentials.
func runArchive(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "verify") {
		fmt.Fprintln(stderr, "usage: spanrec archive list|verify --target CONFIG [--prefix NAME]")
		return errUsage
	}
	sub := args[0]
	fs := newFlags("archive "+sub, "", stderr)
	target := fs.String("target", "", "a configuration file whose offload section (kind s3) names the bucket and its credentials")
	prefix := fs.String("prefix", "", "one appliance's folder (default: every appliance in the bucket)")
	tmp := fs.String("tmp", "", "directory for downloads while verifying (default: the system's)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *target == "" {
		fmt.Fprintln(stderr, "spanrec archive: --target CONFIG is required")
		return errUsage
	}
	if *prefix != "" && !offload.ValidPrefix(*prefix) {
		return fmt.Errorf("--prefix %q is not an appliance folder name", *prefix)
	}
	cfg, err := config.Load(*target)
	if err != nil {
		return err
	}
	t := cfg.Offload
	if t.Kind != offload.KindS3 {
		return fmt.Errorf("%s: offload.kind must be s3 (the archive is an s3 bucket)", *target)
	}
	if t.Prefix == "" {
		t.Prefix = "archive" // this machine's host name is no appliance's: any valid folder name
	}
	c, err := offload.NewS3Client(t)
	if err != nil {
		return err
	}
	where := t.Endpoint + "/" + t.Bucket
	if sub == "list" {
		apps, err := archive.List(ctx, c, t.Bucket, *prefix)
		if err != nil {
			return err
		}
		for _, a := range apps {
			last := "none"
			if n := len(a.Anchors); n > 0 {
				last = a.Anchors[n-1].Name
			}
			fmt.Fprintf(stdout, "%s/%s: %d recordings (%d bytes), %d manifests, %d anchors (last %s), %d keys\n",
				where, a.Prefix, len(a.Recordings), a.Bytes(), len(a.Manifests), len(a.Anchors), last, len(a.Keys))
			for _, o := range a.Recordings {
				fmt.Fprintf(stdout, "  %-60s %12d  %s\n", o.Key, o.Size, o.Modified.UTC().Format("2006-01-02 15:04:05Z"))
			}
		}
		if len(apps) == 0 {
			fmt.Fprintf(stdout, "%s: no appliance folders\n", where)
		}
		return nil
	}
	checked, err := archive.Verify(ctx, c, t.Bucket, *prefix, *tmp)
	if err != nil {
		return err
	}
	bad := 0
	for _, ch := range checked {
		for _, p := range ch.Problems {
			fmt.Fprintf(stdout, "INVALID: %s\n", p)
		}
		bad += len(ch.Problems)
		state := "every signature valid, chain as anchored"
		if len(ch.Problems) > 0 {
			state = fmt.Sprintf("%d problems", len(ch.Problems))
		}
		fmt.Fprintf(stdout, "%s/%s: key %s: %d recordings, %d signatures valid; %d anchors cover entries 1..%d; %d recordings not anchored yet; %s\n",
			where, ch.Prefix, orNone(ch.KeyID), len(ch.Recordings), ch.Valid, ch.Anchors, ch.Entries, ch.Unanchored, state)
	}
	if len(checked) == 0 {
		fmt.Fprintf(stdout, "%s: no appliance folders\n", where)
	}
	if bad > 0 {
		return exitError{code: 1}
	}
	return nil
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(none)"
	}
	return s
}
