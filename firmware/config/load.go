package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Kinds of configuration problems; every *Error wraps one of them.
var (
	// ErrUnknownKey: the file has a key the configuration does not know
	// (often a typo).
	ErrUnknownKey = errors.New("unknown key")
	// ErrParse: the file is not valid YAML, or a value has the wrong type.
	ErrParse = errors.New("cannot parse")
	// ErrInvalid: a value is out of range or malformed (Validate).
	ErrInvalid = errors.New("invalid value")
)

// Error is one problem with a configuration, with where it is.
type Error struct {
	File string // the file, "" when not from a file (Validate)
	Line int    // 1-based line in File, 0 when unknown
	Key  string // dotted key, e.g. "calls.media_timeout"; "" when unknown
	Msg  string // what is wrong
	Kind error  // ErrUnknownKey, ErrParse or ErrInvalid
}

// Error formats the problem as "FILE:LINE: KEY: MSG", leaving out what is
// not known.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the kind of problem.
func (e *Error) Unwrap() error { return e.Kind }

// Load reads the configuration file at path over Default. A missing file
// gives an error that matches fs.ErrNotExist. The result is not validated:
// Apply the flags, then Validate.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data, Default())
}

// Parse reads a configuration file's contents over base (usually
// Default()); keys the file does not have keep base's values. name is the
// file name used in errors. Unknown keys, YAML syntax errors and values of
// the wrong type are errors, each an *Error with its line (all of them are
// reported, joined with errors.Join).
func Parse(name string, data []byte, base Config) (Config, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) { // empty file or only comments
			base = clone(base)
			base.normalize()
			return base, nil
		}
		return Config{}, errors.Join(yamlErrors(name, err, nil, nil)...)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			return Config{}, errors.Join(yamlErrors(name, err, nil, nil)...)
		}
		return Config{}, &Error{File: name, Line: line, Msg: "more than one YAML document", Kind: ErrParse}
	}
	top := &root
	if top.Kind == yaml.DocumentNode && len(top.Content) == 1 {
		top = top.Content[0]
	}
	if top.Kind == yaml.ScalarNode && top.ShortTag() == "!!null" {
		base = clone(base)
		base.normalize()
		return base, nil
	}
	if top.Kind != yaml.MappingNode {
		return Config{}, &Error{File: name, Line: top.Line, Msg: "want a mapping of keys (data_dir: ..., capture: ...)", Kind: ErrParse}
	}
	w := keyWalker{file: name, lines: make(map[int]string), unknown: make(map[int]bool)}
	w.walk(top, reflect.TypeFor[Config](), "", 0)

	cfg := clone(base)
	dec = yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	errs := w.errs
	if err := dec.Decode(&cfg); err != nil {
		errs = append(errs, yamlErrors(name, err, w.lines, w.unknown)...)
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b error) int { return firstLine(a) - firstLine(b) })
		return Config{}, errors.Join(errs...)
	}
	cfg.normalize()
	return cfg, nil
}

// firstLine is the line of err if it is an *Error (0 otherwise).
func firstLine(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Line
	}
	return 0
}

// clone copies c's lists so that decoding into the copy leaves c alone.
func clone(c Config) Config {
	c.Interfaces = slices.Clone(c.Interfaces)
	c.Capture.ExcludeHosts = slices.Clone(c.Capture.ExcludeHosts)
	c.NATAliases = slices.Clone(c.NATAliases)
	return c
}

// keyWalker finds the keys of a YAML tree that the Config type does not
// have (with dotted paths, which yaml.v3's KnownFields error lacks) and
// remembers which key each line holds.
type keyWalker struct {
	file    string
	lines   map[int]string
	unknown map[int]bool // lines of the unknown keys found
	errs    []error
}

const maxDepth = 16

func (w *keyWalker) walk(n *yaml.Node, t reflect.Type, path string, depth int) {
	if n == nil || depth > maxDepth {
		return
	}
	if n.Kind == yaml.AliasNode {
		w.walk(n.Alias, t, path, depth+1)
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if path != "" {
		if _, ok := w.lines[n.Line]; !ok {
			w.lines[n.Line] = path
		}
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" { // merge key: its mapping(s) belong here
				if v.Kind == yaml.SequenceNode {
					for _, m := range v.Content {
						w.walk(m, t, path, depth+1)
					}
				} else {
					w.walk(v, t, path, depth+1)
				}
				continue
			}
			key := join(path, k.Value)
			f, ok := fields[k.Value]
			if !ok {
				if w.unknown[k.Line] { // seen through an alias already
					continue
				}
				w.unknown[k.Line] = true
				w.errs = append(w.errs, &Error{File: w.file, Line: k.Line, Key: key,
					Msg: "unknown key (" + known(path, fields) + ")", Kind: ErrUnknownKey})
				continue
			}
			w.lines[k.Line] = key
			w.walk(v, f, key, depth+1)
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			w.walk(item, t.Elem(), path+"["+strconv.Itoa(i)+"]", depth+1)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func known(path string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	where := "the top level"
	if path != "" {
		where = path
	}
	return "keys of " + where + ": " + strings.Join(names, ", ")
}

// yamlFields maps the yaml names of t's fields to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if opts == "inline" && f.Type.Kind() == reflect.Struct {
			for k, v := range yamlFields(f.Type) {
				m[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f.Type
	}
	return m
}

var (
	lineRE      = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unmarshalRE = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")
	notFoundRE  = regexp.MustCompile(`^field \S+ not found in type `)
)

// yamlErrors turns a yaml.v3 error into *Errors with file, line and (from
// lines) key. Unknown-field errors at the lines of unknown are dropped:
// keyWalker reported them with their dotted key.
func yamlErrors(file string, err error, lines map[int]string, unknown map[int]bool) []error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return []error{lineError(file, strings.TrimPrefix(err.Error(), "yaml: "), lines)}
	}
	var errs []error
	for _, msg := range te.Errors {
		e := lineError(file, msg, lines)
		if notFoundRE.MatchString(e.Msg) {
			if unknown[e.Line] {
				continue
			}
			e.Kind = ErrUnknownKey
		}
		errs = append(errs, e)
	}
	return errs
}

func lineError(file, msg string, lines map[int]string) *Error {
	e := &Error{File: file, Msg: msg, Kind: ErrParse}
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = m[2]
		e.Key = lines[e.Line]
	}
	if m := unmarshalRE.FindStringSubmatch(e.Msg); m != nil {
		switch m[1] {
		case "seq":
			e.Msg = "want " + describe(m[3]) + ", got a list"
		case "map":
			e.Msg = "want " + describe(m[3]) + ", got a mapping"
		default:
			e.Msg = fmt.Sprintf("want %s, got %q", describe(m[3]), m[2])
		}
	}
	return e
}

// describe names a Go type the way a configuration's reader knows it.
func describe(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "a string"
	case strings.Contains(goType, ".") && !strings.ContainsAny(goType, "[]*"):
		return "a mapping of keys" // a section: config.X, or the owner's (calls.Settings, hal.Config)
	}
	return goType
}
