// Package waveform draws a picture of a recording's channels: one band per
// channel (the first two) with its min/max envelope per pixel column,
// paused spans shaded and cue points marked, so a reviewer sees the call
// before playing it.
//
// Render streams the WAV through an io.ReaderAt and bounds its work: a
// column whose span is longer than FullColumn frames is drawn from
// Windows windows of WindowFrames frames spread over it, so a picture of
// a four-hour file reads at most Width × FullColumn frames (about 20 MB
// at the default width) whatever the file's length. A short click inside
// a long column may be missed; speech is not.
package waveform

import (
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"io"
	"strings"

	"spanrec/media/wav"
)

// Palette indexes of the picture.
const (
	Background uint8 = iota // between and below the bands
	Band                    // a band where recording ran
	Paused                  // a band where recording was paused
	Axis                    // the zero line and the time ruler
	Wave0                   // the first channel's (caller's) envelope
	Wave1                   // the second channel's (callee's) envelope
	Cue                     // a cue point (pause, resume, ...)
)

// Palette is the picture's colours, indexed by the constants above.
var Palette = color.Palette{
	color.RGBA{0xff, 0xff, 0xff, 0xff},
	color.RGBA{0xf0, 0xf3, 0xf7, 0xff},
	color.RGBA{0xfc, 0xe3, 0xb4, 0xff},
	color.RGBA{0xc4, 0xcb, 0xd4, 0xff},
	color.RGBA{0x1f, 0x4e, 0x8c, 0xff},
	color.RGBA{0x2a, 0x7a, 0x3a, 0xff},
	color.RGBA{0xc0, 0x39, 0x2b, 0xff},
}

// Sampling bounds of a column (see the package comment).
const (
	FullColumn   = 4096
	Windows      = 8
	WindowFrames = FullColumn / Windows
)

// MaxChannels bounds the channels of a file Render reads (its buffer is
// FullColumn frames).
const MaxChannels = 64

// Geometry defaults.
const (
	DefaultWidth      = 1200
	DefaultBandHeight = 90
	gap               = 8
	ruler             = 8
)

// Options size the picture; zero fields take the defaults.
type Options struct {
	Width      int
	BandHeight int
}

func (o Options) withDefaults() Options {
	if o.Width <= 0 {
		o.Width = DefaultWidth
	}
	if o.BandHeight <= 0 {
		o.BandHeight = DefaultBandHeight
	}
	return o
}

// Band returns the rectangle of channel ch's band (0 or 1).
func (o Options) Band(ch int) image.Rectangle {
	o = o.withDefaults()
	y := ch * (o.BandHeight + gap)
	return image.Rect(0, y, o.Width, y+o.BandHeight)
}

// Size returns the picture's size.
func (o Options) Size() image.Point {
	o = o.withDefaults()
	return image.Pt(o.Width, 2*o.BandHeight+gap+ruler)
}

// Span is a paused stretch, in frames: [From, To).
type Span struct{ From, To int64 }

// Pauses returns the paused spans the recorder's cue points mark
// ("pause (source)" ... "resume (source)"); a pause not resumed lasts to
// frames.
func Pauses(cues []wav.Cue, frames int64) []Span {
	var spans []Span
	open := int64(-1)
	for _, c := range cues {
		switch {
		case strings.HasPrefix(c.Label, "pause") && open < 0:
			open = int64(c.Frame)
		case strings.HasPrefix(c.Label, "resume") && open >= 0:
			spans = append(spans, Span{open, int64(c.Frame)})
			open = -1
		}
	}
	if open >= 0 {
		spans = append(spans, Span{open, frames})
	}
	return spans
}

// Info is what Render found in the file.
type Info struct {
	wav.Format
	// Frames is the data chunk's length in frames.
	Frames int64
	// Cues are the file's cue points; Pauses the spans they mark.
	Cues   []wav.Cue
	Pauses []Span
}

// Render draws the WAV file r of size bytes.
func Render(ctx context.Context, r io.ReaderAt, size int64, o Options) (*image.Paletted, Info, error) {
	o = o.withDefaults()
	p, err := wav.ReadMeta(r, size)
	if err != nil {
		return nil, Info{}, err
	}
	if p.Channels > MaxChannels {
		return nil, Info{}, fmt.Errorf("%w: %d channels (at most %d)", wav.ErrUnsupported, p.Channels, MaxChannels)
	}
	off, dsize := p.Data()
	fb := int64(2 * p.Channels)
	info := Info{Format: p.Format, Frames: dsize / fb, Cues: p.Cues}
	info.Pauses = Pauses(p.Cues, info.Frames)
	chans := min(p.Channels, 2)

	// The envelope: min and max per column and channel.
	type env struct{ lo, hi [2]int32 }
	cols := make([]env, o.Width)
	buf := make([]byte, FullColumn*fb)
	scan := func(e *env, from, n int64) error {
		b := buf[:n*fb]
		if _, err := r.ReadAt(b, off+from*fb); err != nil {
			return fmt.Errorf("waveform: read frames at %d: %w", from, err)
		}
		for i := int64(0); i < n; i++ {
			for ch := range chans {
				v := int32(int16(binary.LittleEndian.Uint16(b[i*fb+int64(2*ch):])))
				e.lo[ch] = min(e.lo[ch], v)
				e.hi[ch] = max(e.hi[ch], v)
			}
		}
		return nil
	}
	var peak int32
	W := int64(o.Width)
	for x := range W {
		if err := ctx.Err(); err != nil {
			return nil, info, err
		}
		a, b := x*info.Frames/W, (x+1)*info.Frames/W
		if a >= info.Frames {
			break
		}
		b = max(b, a+1)
		e := &cols[x]
		if b-a <= FullColumn {
			err = scan(e, a, b-a)
		} else {
			for k := range int64(Windows) {
				if err = scan(e, a+k*(b-a)/Windows, WindowFrames); err != nil {
					break
				}
			}
		}
		if err != nil {
			return nil, info, err
		}
		for ch := range chans {
			peak = max(peak, e.hi[ch], -e.lo[ch])
		}
	}
	// Quiet files are not blown up into loud ones: about -30 dBFS is
	// the smallest full band.
	peak = max(peak, 1000)

	img := image.NewPaletted(image.Rectangle{Max: o.Size()}, Palette)
	column := func(f int64) int { return int(f * W / max(info.Frames, 1)) }
	paused := make([]bool, o.Width)
	for _, s := range info.Pauses {
		for x := column(s.From); x < min(column(s.To)+1, o.Width); x++ {
			paused[x] = true
		}
	}
	half := o.BandHeight / 2
	for ch := range 2 {
		band := o.Band(ch)
		mid := band.Min.Y + half
		for x := range o.Width {
			bg := Band
			if paused[x] {
				bg = Paused
			}
			for y := band.Min.Y; y < band.Max.Y; y++ {
				img.SetColorIndex(x, y, bg)
			}
			img.SetColorIndex(x, mid, Axis)
			if ch >= chans {
				continue
			}
			e := cols[x]
			if e.lo[ch] == 0 && e.hi[ch] == 0 {
				continue
			}
			top := mid - int(int64(e.hi[ch])*int64(half-1)/int64(peak))
			bot := mid - int(int64(e.lo[ch])*int64(half-1)/int64(peak))
			for y := top; y <= bot; y++ {
				img.SetColorIndex(x, y, Wave0+uint8(ch))
			}
		}
	}
	// The time ruler: a tick every step seconds, longer each minute.
	if p.SampleRate > 0 && info.Frames > 0 {
		secs := info.Frames / int64(p.SampleRate)
		step := int64(1)
		for _, s := range []int64{1, 5, 10, 30, 60, 300, 600, 1800, 3600} {
			step = s
			if secs/s <= 30 {
				break
			}
		}
		y0 := o.Band(1).Max.Y + 1
		for t := int64(0); t <= secs; t += step {
			x := column(t * int64(p.SampleRate))
			h := ruler / 2
			if t%60 == 0 {
				h = ruler - 1
			}
			for y := y0; y < y0+h && x < o.Width; y++ {
				img.SetColorIndex(x, y, Axis)
			}
		}
	}
	for _, c := range info.Cues {
		x := min(column(int64(c.Frame)), o.Width-1)
		for y := 0; y < o.Band(1).Max.Y; y++ {
			img.SetColorIndex(x, y, Cue)
		}
	}
	return img, info, nil
}
