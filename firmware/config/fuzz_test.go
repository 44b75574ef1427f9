package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse: any input either parses or returns *Errors; what parses
// validates without panicking and survives YAML() and back.
func FuzzParse(f *testing.F) {
	f.Add([]byte(fullFile))
	f.Add([]byte("capture:\n  ring_mbs: 3\n"))
	f.Add([]byte("a: &x {b: *x}\n"))
	f.Add([]byte("calls: {media_timeout: 30}\n"))
	if b, err := os.ReadFile(filepath.Join("..", "..", "board", "config", "spanrec.yaml")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		base := DefaultFor(noData)
		c, err := Parse("fuzz.yaml", data, base)
		if err != nil {
			if !errors.Is(err, ErrParse) && !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("error of no known kind: %v", err)
			}
			return
		}
		_ = c.Validate()
		b, err := c.YAML()
		if err != nil {
			t.Fatalf("YAML: %v", err)
		}
		back, err := Parse("printed.yaml", b, Config{})
		if err != nil {
			t.Fatalf("printed config does not parse: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip changed the config:\n%s\n%+v\n%+v", b, back, c)
		}
	})
}
