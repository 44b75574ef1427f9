package button

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FindDevice returns the evdev node (under devInput, normally
// DefaultDevInput) of the input device called name, as listed in
// sysClassInput/eventN/device/name (sysClassInput is normally
// DefaultSysClassInput). For a gpio-keys device the name is the device tree
// node's name, e.g. "gpio-keys" or "keys".
func FindDevice(sysClassInput, devInput, name string) (string, error) {
	ents, err := os.ReadDir(sysClassInput)
	if err != nil {
		return "", fmt.Errorf("find input device %q: %w", name, err)
	}
	var seen []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "event") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(sysClassInput, e.Name(), "device", "name"))
		if err != nil {
			continue
		}
		got := strings.TrimSpace(string(b))
		if got == name {
			return filepath.Join(devInput, e.Name()), nil
		}
		seen = append(seen, fmt.Sprintf("%s=%q", e.Name(), got))
	}
	return "", fmt.Errorf("input device %q (have %v): %w", name, seen, ErrNotFound)
}
