// Package config owns the daemon's configuration: the YAML file
// (spanrec.yaml, see board/config/spanrec.yaml for an annotated example),
// its defaults, its validation and the command-line overrides of
// `spanrec run`.
//
// The flow is Load (or Default when there is no file), Apply the flags,
// then Validate. Load reports unknown keys and values of the wrong type
// with the file name and line; Validate reports every invalid value at
// once, each naming its dotted key ("calls.media_timeout"). YAML prints the
// effective configuration in the same format, and loading that output
// gives the same Config back.
package config
