package main

import (
	"context"
	"fmt"
	"io"

	"spanrec/firmware/datadir"
	"spanrec/firmware/keys"
)

func runKeygen(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keygen", "", stderr)
	data := fs.String("data", defaultDataDir, "data directory")
	force := fs.Bool("force", false, "replace an existing key pair (old recordings then need the old public key)")
	if err := parse(fs, args); err != nil {
		return err
	}
	pub, err := keys.Generate(*data, *force)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "private key: %s\npublic key:  %s\nfingerprint: %s\n",
		datadir.Layout(*data).PrivateKey(), datadir.Layout(*data).PublicKey(), keys.Fingerprint(pub))
	return nil
}
