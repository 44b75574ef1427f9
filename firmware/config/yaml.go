package config

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"

	"spanrec/firmware/datadir"
)

// YAML returns c as a configuration file: every key with its value, and
// comments saying what the empty ones mean (control.socket's derived path,
// interfaces chosen by the daemon). Parse of the result gives c back.
func (c Config) YAML() ([]byte, error) {
	var doc yaml.Node
	if err := doc.Encode(c); err != nil {
		return nil, fmt.Errorf("config: encode: %w", err)
	}
	doc.HeadComment = "spanrec configuration"
	if len(c.Interfaces) == 0 {
		if n := mapKey(&doc, "interfaces"); n != nil {
			n.HeadComment = "empty: the first non-loopback interface that is up"
		}
	}
	if c.Control.Socket == "" {
		if n := mapKey(mapValue(&doc, "control"), "socket"); n != nil {
			n.LineComment = "empty: DATA_DIR/" + datadir.SocketName + " = " + c.SocketPath()
		}
	}
	if c.Calls.MaxDuration == 0 {
		if n := mapKey(mapValue(&doc, "calls"), "max_duration"); n != nil {
			n.LineComment = "0: calls are never split"
		}
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("config: encode: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: encode: %w", err)
	}
	return b.Bytes(), nil
}

// mapKey returns the key node named key of the mapping n (or of the
// document n's mapping).
func mapKey(n *yaml.Node, key string) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return nil
}

// mapValue returns the value node of key in the mapping n.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
