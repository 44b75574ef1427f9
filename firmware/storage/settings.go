package storage

import (
	"time"

	"spanrec/firmware/config/setting"
)

// MaxBlockKB bounds Settings.BlockKB.
const MaxBlockKB = 16384

// Settings is the configuration file's storage section: the limits
// retention keeps (Config), and how recordings are written (the
// recorder's flush interval and block size).
type Settings struct {
	// MaxMB is the most the recordings may use, in MiB (0: no quota).
	MaxMB int64 `yaml:"max_mb"`
	// MaxDays deletes recordings older than this many days (0: keep).
	MaxDays int `yaml:"max_days"`
	// MinFreeMB is the free space kept on the data filesystem, in MiB.
	MinFreeMB int64 `yaml:"min_free_mb"`
	// DeleteUnoffloadedWhenFull allows deleting recordings not yet
	// offloaded when storage is full (by default they are never deleted).
	DeleteUnoffloadedWhenFull bool `yaml:"delete_unoffloaded_when_full"`
	// FlushInterval is how often recordings in progress are flushed to
	// storage.
	FlushInterval setting.Duration `yaml:"flush_interval"`
	// BlockKB is the write block size of recordings, in KiB.
	BlockKB int `yaml:"block_kb"`
}

// DefaultSettings are the storage section's defaults.
func DefaultSettings() Settings {
	return Settings{FlushInterval: setting.Duration(time.Second), BlockKB: 4, MinFreeMB: 256}
}

// Validate checks the section; keys are relative to it.
func (s Settings) Validate() error {
	var p setting.Problems
	p.Positive("flush_interval", s.FlushInterval)
	if b := s.BlockKB; b < 4 || b > MaxBlockKB || b%4 != 0 {
		p.Bad("block_kb", "must be a multiple of 4 from 4 to %d (KiB), got %d", MaxBlockKB, b)
	}
	return p.Err()
}

// Limits returns the retention limits of the section (DataDir is the
// caller's to fill in).
func (s Settings) Limits() Config {
	return Config{
		MaxBytes:          s.MaxMB << 20,
		MaxAge:            time.Duration(s.MaxDays) * 24 * time.Hour,
		MinFreeBytes:      s.MinFreeMB << 20,
		DeleteUnoffloaded: s.DeleteUnoffloadedWhenFull,
	}
}

// BlockBytes is BlockKB in bytes.
func (s Settings) BlockBytes() int { return s.BlockKB << 10 }
