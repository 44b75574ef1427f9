package daemon

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"spanrec/firmware/config"
	"spanrec/firmware/control"
	"spanrec/firmware/datadir"
)

// Settings are the configuration file as the console shows and changes
// it (control.Settings).
type Settings struct {
	file   string
	load   func() (config.Config, error)
	reload func() error
	log    *slog.Logger
	mu     sync.Mutex // one `config set` at a time
}

// Config implements control.Settings.
func (b *Settings) Config() (control.ConfigInfo, error) {
	if b.load == nil {
		return control.ConfigInfo{}, fmt.Errorf("configuration: %w", control.ErrNotConfigured)
	}
	c, err := b.load()
	if err != nil {
		return control.ConfigInfo{}, err
	}
	y, err := c.YAML()
	if err != nil {
		return control.ConfigInfo{}, err
	}
	return control.ConfigInfo{File: b.file, YAML: string(y)}, nil
}

// reloadable reports whether the running daemon applies key on reload
// (see Daemon.reload); other keys take effect at the next start.
func reloadable(key string) bool {
	return key == "interfaces" || key == "nat_aliases" || strings.HasPrefix(key, "calls.") || key == "calls"
}

// SetConfig implements control.Settings: the file with key set to
// value (YAML) is parsed and validated, then written atomically, then the
// daemon reloads it.
func (b *Settings) SetConfig(key, value string) (control.ConfigChange, error) {
	ch := control.ConfigChange{File: b.file, Key: key, Value: value}
	err := b.rewrite(func(old []byte) ([]byte, error) { return SetYAMLKey(old, key, value) }, func(_, _ []byte) error {
		ch.Restart = !reloadable(key)
		if b.reload != nil && !ch.Restart {
			if err := b.reload(); err != nil {
				return fmt.Errorf("saved, but the reload failed: %w", err)
			}
			ch.Applied = true
		}
		return nil
	})
	if err != nil {
		return ch, err
	}
	b.log.Info("configuration changed", "file", b.file, "key", key, "applied", ch.Applied)
	return ch, nil
}

// rewrite is every change of the configuration file, one at a time: the
// file's text through edit, parsed and validated (as `spanrec config
// check` does; rejected and nothing saved when it is not valid), written
// atomically with the file's mode, then saved (old and new text) while
// no other change can start.
func (b *Settings) rewrite(edit func(old []byte) ([]byte, error), saved func(old, next []byte) error) error {
	if b.file == "" {
		return fmt.Errorf("%w: the daemon runs without a configuration file (start it with --config FILE)", control.ErrNotConfigured)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	old, err := os.ReadFile(b.file)
	if err != nil {
		return fmt.Errorf("configuration file: %w", err)
	}
	next, err := edit(old)
	if err != nil {
		return err
	}
	cfg, err := config.Parse(b.file, next, config.Default())
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return rejected{err}
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(b.file); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := datadir.WriteFile(b.file, next, mode); err != nil {
		return fmt.Errorf("write configuration file: %w", err)
	}
	return saved(old, next)
}

// rejected is a configuration change that failed validation: a bad
// request, with the validator's message.
type rejected struct{ err error }

func (r rejected) Error() string   { return r.err.Error() + " (nothing saved)" }
func (r rejected) Unwrap() []error { return []error{control.ErrBadRequest, r.err} }

// SetYAMLKey returns the YAML document data with the dotted key (e.g.
// "calls.media_timeout") set to value, itself YAML ("45s", "[eth1,
// eth2]"). Missing sections are created; comments elsewhere are kept.
// Errors match control.ErrBadRequest.
func SetYAMLKey(data []byte, key, value string) ([]byte, error) {
	parts := strings.Split(key, ".")
	for _, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("%w: bad key %q (use section.key, e.g. calls.media_timeout)", control.ErrBadRequest, key)
		}
	}
	if strings.TrimSpace(value) == "" {
		return nil, fmt.Errorf("%w: empty value for %s", control.ErrBadRequest, key)
	}
	var val yaml.Node
	if err := yaml.Unmarshal([]byte(value), &val); err != nil || len(val.Content) != 1 {
		return nil, fmt.Errorf("%w: value %q is not a YAML value", control.ErrBadRequest, value)
	}
	vn := val.Content[0]
	if hasAlias(vn) {
		return nil, fmt.Errorf("%w: value %q uses YAML aliases", control.ErrBadRequest, value)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: the configuration file is not valid YAML: %w", control.ErrBadRequest, err)
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode}
	}
	if len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].ShortTag() == "!!null") {
		doc.Content = []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}
	}
	node := doc.Content[0]
	for i, p := range parts {
		if node.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%w: %s is not a section", control.ErrBadRequest, strings.Join(parts[:i], "."))
		}
		last := i == len(parts)-1
		j := -1
		for k := 0; k+1 < len(node.Content); k += 2 {
			if node.Content[k].Value == p {
				j = k
			}
		}
		if j < 0 {
			child := vn
			if !last {
				child = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			}
			node.Content = append(node.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p}, child)
			node = child
			continue
		}
		if last {
			vn.LineComment = node.Content[j+1].LineComment
			node.Content[j+1] = vn
			break
		}
		child := node.Content[j+1]
		if child.Kind == yaml.ScalarNode && child.ShortTag() == "!!null" {
			child = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			node.Content[j+1] = child
		}
		node = child
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %w", control.ErrBadRequest, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("%w: %w", control.ErrBadRequest, err)
	}
	return out.Bytes(), nil
}

func hasAlias(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return true
	}
	for _, c := range n.Content {
		if hasAlias(c) {
			return true
		}
	}
	return false
}
