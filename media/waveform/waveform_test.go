package waveform

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"spanrec/media/wav"
)

// writeWAV writes a stereo 8 kHz file of frames frames: a 440 Hz tone on
// the left channel in the first half, on the right in the second, the
// other channel silent; with cues.
func writeWAV(t *testing.T, frames int, cues []wav.Cue) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.wav")
	w, err := wav.Create(path, wav.Format{SampleRate: 8000, Channels: 2}, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := make([]int16, 2*frames)
	for i := range frames {
		v := int16(12000 * math.Sin(2*math.Pi*440*float64(i)/8000))
		if i < frames/2 {
			s[2*i] = v
		} else {
			s[2*i+1] = v
		}
	}
	if err := w.Write(s); err != nil {
		t.Fatal(err)
	}
	if err := w.Finish(nil, cues); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func render(t *testing.T, path string, o Options) (*imageT, Info) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	img, info, err := Render(context.Background(), f, st.Size(), o)
	if err != nil {
		t.Fatal(err)
	}
	return &imageT{img.Pix, img.Stride}, info
}

type imageT struct {
	pix    []uint8
	stride int
}

func (m *imageT) at(x, y int) uint8 { return m.pix[y*m.stride+x] }

// count counts the pixels of colour c in columns [x0, x1) of rectangle
// band's rows.
func (m *imageT) count(c uint8, x0, x1, y0, y1 int) int {
	n := 0
	for x := x0; x < x1; x++ {
		for y := y0; y < y1; y++ {
			if m.at(x, y) == c {
				n++
			}
		}
	}
	return n
}

func TestToneOnOneChannel(t *testing.T) {
	const frames = 8000 * 20 // 20 s
	// Paused from 5 s to 8 s.
	cues := []wav.Cue{{Frame: 8000 * 5, Label: "pause (web:tom)"}, {Frame: 8000 * 8, Label: "resume (web:tom)"}}
	o := Options{Width: 400, BandHeight: 60}
	img, info := render(t, writeWAV(t, frames, cues), o)
	if info.Frames != frames || info.Channels != 2 || len(info.Pauses) != 1 || info.Pauses[0] != (Span{40000, 64000}) {
		t.Fatalf("info %+v", info)
	}
	b0, b1 := o.Band(0), o.Band(1)
	half := o.Width / 2
	// Left half: the tone is drawn in the caller's band, nothing in the
	// callee's; the right half the other way round.
	if n := img.count(Wave1, 0, half, 0, o.Size().Y); n != 0 {
		t.Errorf("left half: %d callee pixels", n)
	}
	if n := img.count(Wave0, half+1, o.Width, 0, o.Size().Y); n != 0 {
		t.Errorf("right half: %d caller pixels", n)
	}
	if n := img.count(Wave0, 0, half, b1.Min.Y, b1.Max.Y); n != 0 {
		t.Errorf("left half: %d caller pixels in the callee's band", n)
	}
	for x := 0; x < half; x++ {
		// Every column of the tone spans most of the band (but those of
		// the cue lines).
		if x == 100 || x == 160 {
			continue
		}
		if n := img.count(Wave0, x, x+1, b0.Min.Y, b0.Max.Y); n < o.BandHeight/2 {
			t.Fatalf("column %d: %d caller pixels", x, n)
		}
	}
	for x := half + 1; x < o.Width; x++ {
		if n := img.count(Wave1, x, x+1, b1.Min.Y, b1.Max.Y); n < o.BandHeight/2 {
			t.Fatalf("column %d: %d callee pixels", x, n)
		}
	}
	// The pause: 5 s to 8 s of 20 s are columns 100 to 160, shaded in both
	// bands, with a cue line at each end.
	for _, b := range []struct{ x, want int }{{99, 0}, {101, 1}, {130, 1}, {159, 1}, {161, 0}, {300, 0}} {
		for _, band := range []int{b0.Min.Y, b1.Min.Y} {
			got := img.at(b.x, band) == Paused
			if got != (b.want == 1) {
				t.Errorf("column %d row %d: paused %v, want %v", b.x, band, got, b.want == 1)
			}
		}
	}
	for _, x := range []int{100, 160} {
		if n := img.count(Cue, x, x+1, 0, b1.Max.Y); n != b1.Max.Y {
			t.Errorf("cue column %d: %d cue pixels of %d", x, n, b1.Max.Y)
		}
	}
	if n := img.count(Cue, 0, o.Width, 0, o.Size().Y); n != 2*b1.Max.Y {
		t.Errorf("%d cue pixels, want two lines", n)
	}
}

func TestPauseNotResumed(t *testing.T) {
	got := Pauses([]wav.Cue{{Frame: 10, Label: "pause (dtmf)"}, {Frame: 20, Label: "resume (dtmf)"}, {Frame: 30, Label: "pause (button)"}, {Frame: 40, Label: "hold"}}, 100)
	if len(got) != 2 || got[0] != (Span{10, 20}) || got[1] != (Span{30, 100}) {
		t.Errorf("pauses %+v", got)
	}
}

// longWAV is a 16 kHz stereo WAV of hours that exists only as a
// ReaderAt: a header, then a tone; it counts the bytes read.
type longWAV struct {
	frames int64
	read   atomic.Int64
}

func (l *longWAV) size() int64 { return wav.HeaderSize + 4*l.frames }

func (l *longWAV) ReadAt(p []byte, off int64) (int, error) {
	l.read.Add(int64(len(p)))
	var hdr [wav.HeaderSize]byte
	copy(hdr[:], "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], uint32(l.size()-8))
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], 1)
	binary.LittleEndian.PutUint16(hdr[22:], 2)
	binary.LittleEndian.PutUint32(hdr[24:], 16000)
	binary.LittleEndian.PutUint32(hdr[28:], 16000*4)
	binary.LittleEndian.PutUint16(hdr[32:], 4)
	binary.LittleEndian.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data")
	binary.LittleEndian.PutUint32(hdr[40:], uint32(4*l.frames))
	for i := range p {
		o := off + int64(i)
		if o < wav.HeaderSize {
			p[i] = hdr[o]
			continue
		}
		frame := (o - wav.HeaderSize) / 4
		v := int16(8000 * math.Sin(float64(frame)/3))
		p[i] = byte(uint16(v) >> (8 * ((o - wav.HeaderSize) % 2)))
	}
	return len(p), nil
}

func TestLongFileBoundedWork(t *testing.T) {
	l := &longWAV{frames: 16000 * 3600 * 4} // 4 h at 16 kHz: 921 MB
	o := Options{Width: 300}
	img, info, err := Render(context.Background(), l, l.size(), o)
	if err != nil {
		t.Fatal(err)
	}
	if info.Frames != l.frames || info.SampleRate != 16000 {
		t.Fatalf("info %+v", info)
	}
	if max := int64(o.Width*FullColumn*4) + 4096; l.read.Load() > max {
		t.Errorf("read %d bytes of a %d-byte file, bound %d", l.read.Load(), l.size(), max)
	}
	m := &imageT{img.Pix, img.Stride}
	b0 := o.Band(0)
	for x := 0; x < o.Width; x++ {
		if m.count(Wave0, x, x+1, b0.Min.Y, b0.Max.Y) == 0 {
			t.Fatalf("column %d of the long file is not drawn", x)
		}
	}
}

func TestRenderRefusesOtherFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.pcapng")
	os.WriteFile(path, []byte("\x0a\x0d\x0d\x0anot a wav at all"), 0o600)
	f, _ := os.Open(path)
	defer f.Close()
	if _, _, err := Render(context.Background(), f, 20, Options{}); err == nil {
		t.Error("a pcapng rendered")
	}
}

func TestRenderCancelled(t *testing.T) {
	l := &longWAV{frames: 16000 * 60}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Render(ctx, l, l.size(), Options{}); err != context.Canceled {
		t.Errorf("err %v, want context.Canceled", err)
	}
}

// FuzzRender: any bytes give a picture of the right size or a wav error,
// never a panic, and never read more than the bound.
func FuzzRender(f *testing.F) {
	dir := f.TempDir()
	for i, frames := range []int{0, 5, 3000} {
		path := filepath.Join(dir, string(rune('a'+i))+".wav")
		w, err := wav.Create(path, wav.Format{SampleRate: 8000, Channels: 2}, 0)
		if err != nil {
			f.Fatal(err)
		}
		s := make([]int16, 2*frames)
		for j := range s {
			s[j] = int16(j * 97)
		}
		w.Write(s)
		w.Finish(nil, []wav.Cue{{Frame: uint32(frames / 2), Label: "pause (dtmf)"}})
		w.Close()
		b, _ := os.ReadFile(path)
		f.Add(b)
	}
	o := Options{Width: 64, BandHeight: 20}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := &countingReader{b: b}
		img, _, err := Render(context.Background(), r, int64(len(b)), o)
		if err != nil {
			if !errors.Is(err, wav.ErrNotRIFF) && !errors.Is(err, wav.ErrTruncated) && !errors.Is(err, wav.ErrMalformed) && !errors.Is(err, wav.ErrUnsupported) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if img.Bounds().Size() != o.Size() {
			t.Fatalf("size %v", img.Bounds().Size())
		}
		if bound := int64(len(b)) + int64(o.Width*FullColumn*2*MaxChannels); r.n > bound {
			t.Fatalf("read %d bytes", r.n)
		}
	})
}

type countingReader struct {
	b []byte
	n int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.n += int64(len(p))
	return bytes.NewReader(c.b).ReadAt(p, off)
}
