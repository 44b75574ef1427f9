package opus

import (
	"fmt"
	"time"
)

// Mode is the coding mode of an Opus frame (RFC 6716 §2, §3.1).
type Mode uint8

// The three Opus coding modes.
const (
	// ModeSILK is the linear-prediction layer alone (speech, NB/MB/WB).
	ModeSILK Mode = iota + 1
	// ModeHybrid is SILK up to 8 kHz plus CELT above it (SWB/FB speech).
	ModeHybrid
	// ModeCELT is the MDCT layer alone (music, low delay, high bitrate).
	ModeCELT
)

// String returns "SILK", "Hybrid" or "CELT".
func (m Mode) String() string {
	switch m {
	case ModeSILK:
		return "SILK"
	case ModeHybrid:
		return "Hybrid"
	case ModeCELT:
		return "CELT"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// Bandwidth is the audio bandwidth coded in a frame (RFC 6716 §2, Table 1).
type Bandwidth uint8

// The five Opus audio bandwidths.
const (
	Narrowband    Bandwidth = iota + 1 // 4 kHz audio, 8 kHz effective sample rate
	Mediumband                         // 6 kHz audio, 12 kHz
	Wideband                           // 8 kHz audio, 16 kHz
	SuperWideband                      // 12 kHz audio, 24 kHz
	Fullband                           // 20 kHz audio, 48 kHz
)

// String returns the RFC abbreviation: "NB", "MB", "WB", "SWB" or "FB".
func (b Bandwidth) String() string {
	switch b {
	case Narrowband:
		return "NB"
	case Mediumband:
		return "MB"
	case Wideband:
		return "WB"
	case SuperWideband:
		return "SWB"
	case Fullband:
		return "FB"
	}
	return fmt.Sprintf("Bandwidth(%d)", uint8(b))
}

// SampleRate returns the effective sample rate of the bandwidth in Hz (RFC
// 6716 Table 1): the lowest output rate that loses nothing of it.
func (b Bandwidth) SampleRate() int {
	switch b {
	case Narrowband:
		return 8000
	case Mediumband:
		return 12000
	case Wideband:
		return 16000
	case SuperWideband:
		return 24000
	case Fullband:
		return 48000
	}
	return 0
}

// TOC is the table-of-contents byte that starts every Opus packet (RFC 6716
// §3.1): a 5-bit configuration number, a stereo flag and a 2-bit frame count
// code. All 256 values are valid.
type TOC byte

// configs maps the configuration number (RFC 6716 Table 2) to its mode,
// bandwidth and frame duration in 48 kHz samples.
var configs = [32]struct {
	mode      Mode
	bandwidth Bandwidth
	samples48 uint16
}{
	{ModeSILK, Narrowband, 480}, {ModeSILK, Narrowband, 960}, {ModeSILK, Narrowband, 1920}, {ModeSILK, Narrowband, 2880},
	{ModeSILK, Mediumband, 480}, {ModeSILK, Mediumband, 960}, {ModeSILK, Mediumband, 1920}, {ModeSILK, Mediumband, 2880},
	{ModeSILK, Wideband, 480}, {ModeSILK, Wideband, 960}, {ModeSILK, Wideband, 1920}, {ModeSILK, Wideband, 2880},
	{ModeHybrid, SuperWideband, 480}, {ModeHybrid, SuperWideband, 960},
	{ModeHybrid, Fullband, 480}, {ModeHybrid, Fullband, 960},
	{ModeCELT, Narrowband, 120}, {ModeCELT, Narrowband, 240}, {ModeCELT, Narrowband, 480}, {ModeCELT, Narrowband, 960},
	{ModeCELT, Wideband, 120}, {ModeCELT, Wideband, 240}, {ModeCELT, Wideband, 480}, {ModeCELT, Wideband, 960},
	{ModeCELT, SuperWideband, 120}, {ModeCELT, SuperWideband, 240}, {ModeCELT, SuperWideband, 480}, {ModeCELT, SuperWideband, 960},
	{ModeCELT, Fullband, 120}, {ModeCELT, Fullband, 240}, {ModeCELT, Fullband, 480}, {ModeCELT, Fullband, 960},
}

// Config returns the configuration number 0..31 (RFC 6716 Table 2).
func (t TOC) Config() int { return int(t >> 3) }

// Mode returns the coding mode of every frame in the packet.
func (t TOC) Mode() Mode { return configs[t>>3].mode }

// Bandwidth returns the audio bandwidth of every frame in the packet.
func (t TOC) Bandwidth() Bandwidth { return configs[t>>3].bandwidth }

// Stereo reports whether the frames are coded in stereo (the s bit).
func (t TOC) Stereo() bool { return t&0x04 != 0 }

// FrameCode returns the frame count code c: 0 one frame, 1 two equal-size
// frames, 2 two frames of different size, 3 an arbitrary number (RFC 6716
// §3.2).
func (t TOC) FrameCode() int { return int(t & 0x03) }

// FrameSamples48 returns the duration of one frame in 48 kHz samples, the unit
// of the RTP timestamp for Opus (RFC 7587 §4.1): 120, 240, 480, 960, 1920 or
// 2880.
func (t TOC) FrameSamples48() int { return int(configs[t>>3].samples48) }

// FrameDuration returns the duration of one frame: 2.5, 5, 10, 20, 40 or 60 ms.
func (t TOC) FrameDuration() time.Duration {
	return time.Duration(t.FrameSamples48()) * time.Second / 48000
}

// String describes the configuration, e.g. "SILK WB 20ms mono".
func (t TOC) String() string {
	ch := "mono"
	if t.Stereo() {
		ch = "stereo"
	}
	return fmt.Sprintf("%v %v %v %s", t.Mode(), t.Bandwidth(), t.FrameDuration(), ch)
}
