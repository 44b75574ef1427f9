package recorder

import (
	"fmt"
	"os"

	"spanrec/firmware/config/setting"
	"spanrec/media/consent"
)

// SampleRate is the configuration file's recording.sample_rate: "auto"
// (or empty: 8 kHz for narrowband calls, 16 kHz when either side is
// wideband: G.722, Opus), or "8000", "16000", "48000" for every call.
type SampleRate string

// Validate checks the value; the key is the value itself ("").
func (s SampleRate) Validate() error {
	var p setting.Problems
	switch s {
	case "", "auto", "8000", "16000", "48000":
	default:
		p.Bad("", "must be auto, 8000, 16000 or 48000, got %q", string(s))
	}
	return p.Err()
}

// Hz is the rate as Config.SampleRate takes it: 0 for auto.
func (s SampleRate) Hz() int {
	switch s {
	case "8000":
		return 8000
	case "16000":
		return 16000
	case "48000":
		return 48000
	}
	return 0
}

// ConsentSettings is the configuration file's consent section: per call
// direction, the consent prompt the PBX plays (a WAV file); recordings of
// that direction are checked for it.
type ConsentSettings struct {
	Internal string `yaml:"internal"`
	Inbound  string `yaml:"inbound"`
	Outbound string `yaml:"outbound"`
	// Quarantine withholds recordings whose prompt was not heard: they stay
	// on disk and in the index, visible only to admins.
	Quarantine bool `yaml:"quarantine"`
}

func (c ConsentSettings) files() []struct{ key, path string } {
	return []struct{ key, path string }{{"internal", c.Internal}, {"inbound", c.Inbound}, {"outbound", c.Outbound}}
}

// Validate checks that each prompt file named exists; keys are relative
// to the section.
func (c ConsentSettings) Validate() error {
	var p setting.Problems
	for _, f := range c.files() {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			p.Bad(f.key, "prompt file: %v", err)
		}
	}
	return p.Err()
}

// Load reads the prompts the section registers (Config.Consent).
func (c ConsentSettings) Load() (*consent.Set, error) {
	set := &consent.Set{}
	dst := map[string]**consent.Prompt{"internal": &set.Internal, "inbound": &set.Inbound, "outbound": &set.Outbound}
	for _, f := range c.files() {
		if f.path == "" {
			continue
		}
		prompt, err := consent.LoadPromptWAV(f.path)
		if err != nil {
			return nil, fmt.Errorf("consent prompt %s: %w", f.path, err)
		}
		*dst[f.key] = prompt
	}
	return set, nil
}
