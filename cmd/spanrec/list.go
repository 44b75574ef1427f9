package main

import (
	"context"
	"io"

	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
)

func runList(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("list", "", stderr)
	data := fs.String("data", defaultDataDir, "data directory")
	jsonOut := fs.Bool("json", false, "one JSON object per line")
	if err := parse(fs, args); err != nil {
		return err
	}
	ix, err := index.Open(datadir.Layout(*data).Index())
	if err != nil {
		return err
	}
	defer ix.Close()
	var all []*index.Call
	if err := ix.List(func(c *index.Call) error { all = append(all, c); return nil }); err != nil {
		return err
	}
	if *jsonOut {
		return index.WriteJSONLines(stdout, all)
	}
	return index.WriteTable(stdout, all)
}
