package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tone returns n stereo frames: a 440 Hz sine left, 1 kHz right at 8 kHz.
func tone(n int) []int16 {
	s := make([]int16, 2*n)
	for i := range n {
		s[2*i] = int16(12000 * math.Sin(2*math.Pi*440*float64(i)/8000))
		s[2*i+1] = int16(-8000 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	return s
}

var stereo = Format{SampleRate: 8000, Channels: 2}

func writeFile(t testing.TB, path string, samples []int16, blockSize int, tags []InfoTag, cues []Cue) {
	t.Helper()
	w, err := Create(path, stereo, blockSize)
	if err != nil {
		t.Fatal(err)
	}
	for len(samples) > 0 {
		k := min(len(samples), 320)
		if err := w.Write(samples[:k]); err != nil {
			t.Fatal(err)
		}
		samples = samples[k:]
	}
	if err := w.Finish(tags, cues); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCanonicalHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.wav")
	samples := tone(8000) // one second
	writeFile(t, path, samples, 0, nil, nil)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte("RIFF\x24\x7d\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x40\x1f\x00\x00\x00\x7d\x00\x00\x04\x00\x10\x00data\x00\x7d\x00\x00")
	if !bytes.Equal(b[:HeaderSize], want) {
		t.Errorf("header\n got %q\nwant %q", b[:HeaderSize], want)
	}
	if len(b) != HeaderSize+4*8000 {
		t.Errorf("file size %d, want %d", len(b), HeaderSize+4*8000)
	}
	for i, s := range samples {
		if got := int16(binary.LittleEndian.Uint16(b[HeaderSize+2*i:])); got != s {
			t.Fatalf("sample %d on disk = %d, want %d", i, got, s)
		}
	}
	p, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Format != stereo || p.Frames() != 8000 || len(p.Info) != 0 || len(p.Cues) != 0 {
		t.Errorf("parsed %+v frames %d", p.Format, p.Frames())
	}
	if len(p.Chunks) != 2 || p.Chunks[0] != (Chunk{"fmt ", 12, 16}) || p.Chunks[1] != (Chunk{"data", 36, 32000}) {
		t.Errorf("chunks %+v", p.Chunks)
	}
}

// sox, the reference tool, agrees on format, length and content.
func TestSoxReadsFile(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Skip("sox not installed; skipping cross-check with sox")
	}
	path := filepath.Join(t.TempDir(), "sox.wav")
	samples := tone(4000)
	writeFile(t, path, samples, 4096, []InfoTag{{"INAM", "call 1"}, {"ICMT", "odd"}}, []Cue{{Frame: 100, Label: "answer"}})
	out, err := exec.Command(sox, "--i", path).CombinedOutput()
	if err != nil {
		t.Fatalf("sox --i: %v\n%s", err, out)
	}
	for _, want := range []string{"Channels       : 2", "Sample Rate    : 8000", "Precision      : 16-bit", "4000 samples", "Signed Integer PCM"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("sox --i output lacks %q:\n%s", want, out)
		}
	}
	raw, err := exec.Command(sox, path, "-t", "raw", "-e", "signed", "-b", "16", "-L", "-").Output()
	if err != nil {
		t.Fatalf("sox decode: %v", err)
	}
	if len(raw) != 2*len(samples) {
		t.Fatalf("sox decoded %d bytes, want %d", len(raw), 2*len(samples))
	}
	for i, s := range samples {
		if got := int16(binary.LittleEndian.Uint16(raw[2*i:])); got != s {
			t.Fatalf("sox sample %d = %d, want %d", i, got, s)
		}
	}
}

// Sample data reaches the disk only in whole blocks until Flush, and Flush
// leaves a valid file holding everything written so far.
func TestBlocksAndFlush(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.wav")
	const bs = 4096
	w, err := Create(path, stereo, bs)
	if err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	if got := size(); got != HeaderSize {
		t.Fatalf("after Create size %d, want %d", got, HeaderSize)
	}
	if p, err := ReadFile(path); err != nil || p.Frames() != 0 {
		t.Fatalf("fresh file: %v", err)
	}
	samples := tone(3200)
	for i := 0; i < len(samples); i += 320 {
		if err := w.Write(samples[i : i+320]); err != nil {
			t.Fatal(err)
		}
		if s := size(); s != HeaderSize && s%bs != 0 {
			t.Fatalf("after %d samples file size %d is not block-aligned", i+320, s)
		}
	}
	if w.Frames() != 3200 {
		t.Errorf("Frames = %d", w.Frames())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	p, err := ReadFile(path)
	if err != nil {
		t.Fatalf("after Flush: %v", err)
	}
	if !equal(p.Samples, samples) {
		t.Fatalf("after Flush: %d samples, want %d identical", len(p.Samples), len(samples))
	}
	// Keep writing: the re-written block carries the patched header, the file
	// stays block-aligned and a second Flush covers everything.
	more := tone(5000)
	if err := w.Write(more); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	p, err = ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(p.Samples, append(append([]int16(nil), samples...), more...)) {
		t.Fatalf("after second Flush: %d samples", len(p.Samples))
	}
	// Close without Finish flushes too.
	if err := w.Write(samples[:2]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if p, err = ReadFile(path); err != nil || p.Frames() != 8201 {
		t.Fatalf("after Close: %v", err)
	}
	if err := w.Write(samples[:2]); !errors.Is(err, ErrFinished) {
		t.Errorf("Write after Close: %v", err)
	}
}

func equal(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFinishTagsAndCues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.wav")
	tags := []InfoTag{
		{"INAM", "Alice <1001> -> 2001"},
		{"ICMT", "Call-ID: abc@127.0.0.2"}, // odd length + NUL = even
		{"ICRD", "2025-01-02T03:04:05Z"},
		{"ISFT", "spanrec"},
	}
	cues := []Cue{{Frame: 0, Label: "start"}, {Frame: 4000, Label: "hold"}, {Frame: 7999}}
	samples := tone(8000)
	writeFile(t, path, samples, 0, tags, cues)
	p, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(p.Samples, samples) {
		t.Fatal("samples differ")
	}
	if len(p.Info) != len(tags) {
		t.Fatalf("info %+v", p.Info)
	}
	for i := range tags {
		if p.Info[i] != tags[i] {
			t.Errorf("tag %d = %+v, want %+v", i, p.Info[i], tags[i])
		}
	}
	if v, ok := p.Tag("ISFT"); !ok || v != "spanrec" {
		t.Errorf("Tag(ISFT) = %q %v", v, ok)
	}
	if len(p.Cues) != 3 || p.Cues[0] != cues[0] || p.Cues[1] != cues[1] || p.Cues[2] != cues[2] {
		t.Errorf("cues %+v", p.Cues)
	}
	var ids []string
	for _, c := range p.Chunks {
		ids = append(ids, c.ID)
		if c.Offset%2 != 0 {
			t.Errorf("chunk %q at odd offset %d", c.ID, c.Offset)
		}
	}
	if got := strings.Join(ids, ","); got != "fmt ,data,LIST,cue ,LIST" {
		t.Errorf("chunk order %q", got)
	}
	f, _ := os.Open(path)
	defer f.Close()
	st0, _ := f.Stat()
	m, err := ReadMeta(f, st0.Size())
	if err != nil {
		t.Fatal(err)
	}
	if off, size := m.Data(); m.Samples != nil || off != HeaderSize || size != 4*8000 || m.Format != stereo || len(m.Cues) != 3 || m.Cues[1] != cues[1] {
		t.Errorf("ReadMeta: samples %d, data at %d size %d, %+v, cues %+v", len(m.Samples), off, size, m.Format, m.Cues)
	}
	st, _ := os.Stat(path)
	b, _ := os.ReadFile(path)
	if riff := binary.LittleEndian.Uint32(b[4:]); int64(riff) != st.Size()-8 {
		t.Errorf("RIFF size %d, file %d", riff, st.Size())
	}
	if d := binary.LittleEndian.Uint32(b[40:]); d != 32000 {
		t.Errorf("data size %d", d)
	}
}

func TestWriterErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "e.wav")
	if _, err := Create(path, Format{SampleRate: 8000}, 0); !errors.Is(err, ErrFormat) {
		t.Errorf("0 channels: %v", err)
	}
	if _, err := Create(filepath.Join(dir, "missing", "x.wav"), stereo, 0); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing dir: %v", err)
	}
	w, err := Create(path, stereo, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := Create(path, stereo, 0); !errors.Is(err, os.ErrExist) {
		t.Errorf("existing file: %v", err)
	}
	if err := w.Write([]int16{1, 2, 3}); !errors.Is(err, ErrPartialFrame) {
		t.Errorf("3 samples stereo: %v", err)
	}
	for _, tags := range [][]InfoTag{{{"INA", "x"}}, {{"INAM", "a\x00b"}}, {{"IN\nM", "x"}}} {
		if err := w.Finish(tags, nil); !errors.Is(err, ErrBadTag) {
			t.Errorf("tags %q: %v", tags, err)
		}
	}
	if err := w.Finish(nil, []Cue{{Label: "\x00"}}); !errors.Is(err, ErrBadTag) {
		t.Errorf("bad cue: %v", err)
	}
	if err := w.Finish(nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Finish(nil, nil); !errors.Is(err, ErrFinished) {
		t.Errorf("second Finish: %v", err)
	}
	if err := w.Write([]int16{1, 2}); !errors.Is(err, ErrFinished) {
		t.Errorf("Write after Finish: %v", err)
	}
	if p, err := ReadFile(path); err != nil || p.Frames() != 0 {
		t.Errorf("empty finished file: %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.wav")
	writeFile(t, path, tone(100), 0, []InfoTag{{"INAM", "x"}}, []Cue{{Frame: 5, Label: "c"}})
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	le := binary.LittleEndian
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrNotRIFF},
		{"text", []byte("hello, this is not a wav file"), ErrNotRIFF},
		{"RIFX", mod(func(b []byte) []byte { b[3] = 'X'; return b }), ErrNotRIFF},
		{"AVI", mod(func(b []byte) []byte { copy(b[8:], "AVI "); return b }), ErrNotRIFF},
		{"cut in data", good[:300], ErrTruncated},
		{"cut one byte", good[:len(good)-1], ErrTruncated},
		{"data size too big", mod(func(b []byte) []byte { le.PutUint32(b[40:], 1<<20); return b }), ErrTruncated},
		{"8-bit", mod(func(b []byte) []byte { le.PutUint16(b[34:], 8); return b }), ErrUnsupported},
		{"float", mod(func(b []byte) []byte { le.PutUint16(b[20:], 3); return b }), ErrUnsupported},
		{"bad block align", mod(func(b []byte) []byte { le.PutUint16(b[32:], 3); return b }), ErrMalformed},
		{"odd data size", mod(func(b []byte) []byte { le.PutUint32(b[40:], 398); return b }), ErrMalformed},
		{"no data", mod(func(b []byte) []byte { copy(b[36:], "junk"); return b }), ErrMalformed},
		{"data before fmt", mod(func(b []byte) []byte { copy(b[12:], "junk"); return b }), ErrMalformed},
		{"cue count too big", mod(func(b []byte) []byte {
			i := bytes.Index(b, []byte("cue "))
			le.PutUint32(b[i+8:], 1000)
			return b
		}), ErrMalformed},
		{"INFO entry too big", mod(func(b []byte) []byte {
			i := bytes.Index(b, []byte("INAM"))
			le.PutUint32(b[i+4:], 1000)
			return b
		}), ErrMalformed},
	} {
		if _, err := Read(bytes.NewReader(tc.b), int64(len(tc.b))); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	// Bytes after the RIFF end (e.g. a partially written block) are ignored.
	extra := append(append([]byte(nil), good...), 1, 2, 3)
	if _, err := Read(bytes.NewReader(extra), int64(len(extra))); err != nil {
		t.Errorf("trailing bytes: %v", err)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "nope.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestWriteAllocs(t *testing.T) {
	w, err := Create(filepath.Join(t.TempDir(), "a.wav"), stereo, 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s := tone(160)
	if n := testing.AllocsPerRun(500, func() {
		if err := w.Write(s); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Write allocates %v times per run, want 0", n)
	}
	// A second of audio: the pending block and whole blocks in one write.
	s = tone(2*8000 + 2*37)
	if n := testing.AllocsPerRun(50, func() {
		if err := w.Write(s); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Write of a second allocates %v times per run, want 0", n)
	}
}

func BenchmarkWrite320(b *testing.B) {
	w, err := Create(filepath.Join(b.TempDir(), "bench.wav"), stereo, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	s := tone(160) // 320 interleaved samples = 20 ms of stereo at 8 kHz
	b.ReportAllocs()
	b.SetBytes(640)
	for b.Loop() {
		if w.Frames() > 1<<26 { // stay far from the 4 GiB limit
			b.StopTimer()
			w.Close()
			if w, err = Create(filepath.Join(b.TempDir(), "bench.wav"), stereo, 0); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		if err := w.Write(s); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzRead checks that Read never panics on arbitrary input and that what it
// accepts is self-consistent.
func FuzzRead(f *testing.F) {
	dir := f.TempDir()
	for i, tc := range []struct {
		frames int
		tags   []InfoTag
		cues   []Cue
	}{{0, nil, nil}, {10, []InfoTag{{"INAM", "abc"}}, []Cue{{Frame: 3, Label: "x"}}}, {3, nil, []Cue{{Frame: 1}}}} {
		path := filepath.Join(dir, string(rune('a'+i))+".wav")
		writeFile(f, path, tone(tc.frames), 0, tc.tags, tc.cues)
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !errors.Is(err, ErrNotRIFF) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if 2*len(p.Samples) > len(b) || p.Channels == 0 || len(p.Samples)%p.Channels != 0 {
			t.Fatalf("inconsistent result: %d samples, %d channels, %d bytes", len(p.Samples), p.Channels, len(b))
		}
		for _, c := range p.Chunks {
			if c.Offset+8+c.Size > int64(len(b)) {
				t.Fatalf("chunk %q beyond input", c.ID)
			}
		}
	})
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"Alice":           "Alice",
		"Al\x00ice":       `Al\x00ice`,
		"\x1b[31mred":     `\x1b[31mred`,
		"caf\xc3\xa9":     "caf\xc3\xa9",
		"bad\xffutf8":     `bad\xffutf8`,
		"c1\u0085":        `c1\xc2\x85`,
		"line\r\nbreak\t": `line\x0d\x0abreak\x09`,
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWriteOutPages: a live recording written out every "second" in whole
// pages passes each sample byte to the file once (write volume = audio
// + one header write per flush), the file on disk is a valid WAV of the
// samples up to the last page boundary after each flush, and the finished
// file is the same as one written without flushes.
// TestWriteOutPages, with the default block and with a block of one page
// (which the recorder uses: whole blocks then go to the file straight from
// the samples written).
func TestWriteOutPages(t *testing.T) {
	for _, block := range []int{0, PageSize} {
		t.Run(fmt.Sprint(block), func(t *testing.T) { testWriteOutPages(t, block) })
	}
}

func testWriteOutPages(t *testing.T, block int) {
	dir := t.TempDir()
	samples := tone(8000 * 40) // 40 s: many 64 KiB blocks, more than HeaderLag
	plain := filepath.Join(dir, "plain.wav")
	writeFile(t, plain, samples, 0, nil, nil)

	path := filepath.Join(dir, "live.wav")
	w, err := Create(path, stereo, block)
	if err != nil {
		t.Fatal(err)
	}
	flushes, headers, lagging := 0, 0, 0
	for s := samples; len(s) > 0; {
		k := min(len(s), 2*8000+2*37) // a second and a bit: never page-aligned
		if err := w.Write(s[:k]); err != nil {
			t.Fatal(err)
		}
		s = s[k:]
		if err := w.WriteOutPages(); err != nil {
			t.Fatal(err)
		}
		flushes++
		p, err := ReadFile(path)
		if err != nil {
			t.Fatalf("after flush %d: %v", flushes, err)
		}
		onDisk := (HeaderSize+w.data)&^(PageSize-1) - HeaderSize
		st, _ := os.Stat(path)
		if st.Size() != HeaderSize+onDisk {
			t.Fatalf("after flush %d: file has %d bytes, want %d (up to the page boundary)", flushes, st.Size(), HeaderSize+onDisk)
		}
		// The header may lag by less than HeaderLag.
		if declared := int64(p.Frames() * 4); declared > onDisk || onDisk-declared >= HeaderLag {
			t.Fatalf("after flush %d: header gives %d bytes of %d on disk", flushes, declared, onDisk)
		} else if declared < onDisk {
			lagging++
		} else {
			headers++
		}
		if !slicesEqual(p.Samples, samples[:len(p.Samples)]) {
			t.Fatalf("after flush %d: samples on disk differ", flushes)
		}
		// After a crash now, Reopen takes every sample on disk.
		crashed := filepath.Join(dir, "crashed.wav")
		b, _ := os.ReadFile(path)
		os.WriteFile(crashed, b, 0o644)
		rw, err := Reopen(crashed, 0)
		if err != nil {
			t.Fatal(err)
		}
		if rw.data != onDisk {
			t.Fatalf("after flush %d: Reopen finds %d bytes of samples, want %d", flushes, rw.data, onDisk)
		}
		rw.Close()
		os.Remove(crashed)
	}
	if err := w.Finish(nil, nil); err != nil {
		t.Fatal(err)
	}
	vol := w.BytesWritten()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(plain)
	b, _ := os.ReadFile(path)
	if !bytes.Equal(a, b) {
		t.Fatal("the flushed file differs from the one written without flushes")
	}
	// Audio once, the header at creation, a header write per HeaderLag
	// and the finish's two size patches.
	if headers == 0 || lagging == 0 {
		t.Errorf("%d flushes wrote the header, %d left it lagging: want some of each", headers, lagging)
	}
	if want := int64(len(b)) + int64(headers)*(HeaderSize-4) + 8; vol != want {
		t.Errorf("%d bytes written for a %d-byte file and %d header writes, want %d", vol, len(b), headers, want)
	}
}

func slicesEqual(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestReadStart: only the first frames are read; format, tags and cues are
// as Read gives them.
func TestReadStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "call.wav")
	samples := tone(8000)
	writeFile(t, path, samples, 0, []InfoTag{{ID: "INAM", Value: "a call"}}, []Cue{{Frame: 7000, Label: "pause"}})
	b, _ := os.ReadFile(path)
	all, err := Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, frames := range []int64{0, 1, 100, 8000, 9000} {
		p, err := ReadStart(bytes.NewReader(b), int64(len(b)), frames)
		if err != nil {
			t.Fatal(err)
		}
		want := min(frames, 8000)
		if int64(p.Frames()) != want || !slicesEqual(p.Samples, samples[:2*want]) {
			t.Errorf("ReadStart(%d): %d frames, want the first %d", frames, p.Frames(), want)
		}
		if v, _ := p.Tag("INAM"); v != "a call" || len(p.Cues) != 1 || p.Cues[0] != all.Cues[0] || p.Format != all.Format {
			t.Errorf("ReadStart(%d): format %+v tags %+v cues %+v, want Read's", frames, p.Format, p.Info, p.Cues)
		}
	}
}
