package button

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// t0 is an arbitrary kernel timestamp for the synthetic events.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// encodeEvent writes one struct input_event in the layout of tvSize.
func encodeEvent(b []byte, tvSize int, at time.Time, typ, code uint16, value int32) []byte {
	ne := binary.NativeEndian
	rec := make([]byte, eventSize(tvSize))
	sec, usec := at.Unix(), int64(at.Nanosecond()/1000)
	if tvSize == 16 {
		ne.PutUint64(rec[0:], uint64(sec))
		ne.PutUint64(rec[8:], uint64(usec))
	} else {
		ne.PutUint32(rec[0:], uint32(sec))
		ne.PutUint32(rec[4:], uint32(usec))
	}
	ne.PutUint16(rec[tvSize:], typ)
	ne.PutUint16(rec[tvSize+2:], code)
	ne.PutUint32(rec[tvSize+4:], uint32(value))
	return append(b, rec...)
}

// key appends what gpio-keys emits for one transition: EV_KEY then SYN_REPORT.
func key(b []byte, ms int, code uint16, value int32) []byte {
	at := t0.Add(time.Duration(ms) * time.Millisecond)
	b = encodeEvent(b, timevalSize, at, evKey, code, value)
	return encodeEvent(b, timevalSize, at, evSyn, synReport, 0)
}

func TestDecodeBothLayouts(t *testing.T) {
	at := time.Unix(1700000000, 123456000)
	for _, tv := range []int{8, 16} {
		b := encodeEvent(nil, tv, at, evKey, KeyProg1, 1)
		if len(b) != map[int]int{8: 16, 16: 24}[tv] {
			t.Fatalf("tv %d: record is %d bytes", tv, len(b))
		}
		ev := decodeEvent(b, tv)
		if !ev.time.Equal(at) || ev.typ != evKey || ev.code != KeyProg1 || ev.value != 1 {
			t.Errorf("tv %d: decoded %+v", tv, ev)
		}
	}
	// A negative value (some drivers use -1 for relative axes) survives.
	if ev := decodeEvent(encodeEvent(nil, 8, at, 2, 0, -1), 8); ev.value != -1 {
		t.Errorf("value = %d", ev.value)
	}
}

func TestNativeLayout(t *testing.T) {
	want := 2 * int(unsafe.Sizeof(uintptr(0)))
	if timevalSize != want {
		t.Errorf("timevalSize = %d, want %d (two native words)", timevalSize, want)
	}
}

func TestDebouncer(t *testing.T) {
	type ev struct {
		ms   int
		down bool
	}
	for _, tc := range []struct {
		name string
		evs  []ev
		want []Press
	}{
		{"clean", []ev{{0, true}, {200, false}}, []Press{{Time: t0}}},
		{"bouncy", []ev{{0, true}, {3, false}, {8, true}, {12, false}, {15, true}, {400, false}, {405, true}, {409, false}},
			[]Press{{Time: t0}}},
		{"long", []ev{{0, true}, {2000, false}}, []Press{{Time: t0, Long: true}}},
		{"almost long", []ev{{0, true}, {1999, false}}, []Press{{Time: t0}}},
		{"two", []ev{{0, true}, {100, false}, {500, true}, {600, false}},
			[]Press{{Time: t0}, {Time: t0.Add(500 * time.Millisecond)}}},
		// A tap shorter than the window: the release is settled at the
		// end of the window when the next event comes.
		{"short tap", []ev{{0, true}, {10, false}, {1000, true}, {1100, false}},
			[]Press{{Time: t0}, {Time: t0.Add(time.Second)}}},
		// Bounce ending down after release: the press starts at the end
		// of the lockout.
		{"release bounce ends down", []ev{{0, true}, {100, false}, {110, true}, {3000, false}},
			[]Press{{Time: t0}, {Time: t0.Add(130 * time.Millisecond), Long: true}}},
		{"release first", []ev{{0, false}, {100, true}, {200, false}}, []Press{{Time: t0.Add(100 * time.Millisecond)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := debouncer{debounce: DefaultDebounce, long: DefaultLongPress}
			var got []Press
			for _, e := range tc.evs {
				if p, ok := d.event(e.down, t0.Add(time.Duration(e.ms)*time.Millisecond)); ok {
					got = append(got, p)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if !got[i].Time.Equal(tc.want[i].Time) || got[i].Long != tc.want[i].Long {
					t.Errorf("press %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// fifo makes a FIFO standing in for /dev/input/eventN and opens its write
// end (O_RDWR so that opening does not wait for the reader).
func fifo(t *testing.T) (string, *os.File) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "event0")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo not available: %v", err)
	}
	w, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return path, w
}

func collect(ch <-chan Press) []Press {
	var ps []Press
	for p := range ch {
		ps = append(ps, p)
	}
	return ps
}

func TestEvdevOverFIFO(t *testing.T) {
	path, w := fifo(t)
	b, err := Open(path, Config{Code: Btn0})
	if err != nil {
		t.Fatal(err)
	}
	var stream []byte
	// Another key and a repeat are ignored; MSC_SCAN-like noise too.
	stream = encodeEvent(stream, timevalSize, t0, 4, 4, 90001)
	stream = key(stream, 0, KeyProg1, 1)
	stream = key(stream, 50, KeyProg1, 0)
	// Press 1: bouncing contacts, 300 ms.
	for _, e := range []struct {
		ms int
		v  int32
	}{{100, 1}, {104, 0}, {109, 1}, {112, 0}, {118, 1}, {400, 0}, {404, 1}, {411, 0}} {
		stream = key(stream, e.ms, Btn0, e.v)
	}
	// Press 2: long, with autorepeat events while held.
	stream = key(stream, 1000, Btn0, 1)
	for ms := 1250; ms < 3500; ms += 33 {
		stream = key(stream, ms, Btn0, 2)
	}
	stream = key(stream, 3500, Btn0, 0)
	// Events the kernel dropped: everything up to the SYN_REPORT after
	// SYN_DROPPED is ignored (a FIFO cannot be re-read with EVIOCGKEY).
	stream = encodeEvent(stream, timevalSize, t0.Add(4*time.Second), evSyn, synDropped, 0)
	stream = encodeEvent(stream, timevalSize, t0.Add(4*time.Second), evKey, Btn0, 1)
	stream = encodeEvent(stream, timevalSize, t0.Add(4*time.Second), evSyn, synReport, 0)
	// Press 3: clean short, written in odd-sized chunks below.
	stream = key(stream, 5000, Btn0, 1)
	stream = key(stream, 5150, Btn0, 0)

	ch := b.Presses(t.Context())
	go func() {
		for len(stream) > 0 {
			n := min(len(stream), 7)
			w.Write(stream[:n])
			stream = stream[n:]
		}
		w.Close()
	}()
	got := collect(ch)
	want := []Press{
		{Time: t0.Add(100 * time.Millisecond)},
		{Time: t0.Add(1000 * time.Millisecond), Long: true},
		{Time: t0.Add(5000 * time.Millisecond)},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		if !got[i].Time.Equal(want[i].Time) || got[i].Long != want[i].Long {
			t.Errorf("press %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if err := b.Err(); !errors.Is(err, io.EOF) {
		t.Errorf("Err after writer closed = %v, want EOF", err)
	}
}

// A tap shorter than the debounce window with nothing after it is still
// reported, when the window has passed; cancelling then ends the stream.
func TestEvdevShortTapSettles(t *testing.T) {
	path, w := fifo(t)
	b, err := Open(path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ch := b.Presses(ctx)
	if _, err := w.Write(key(key(nil, 0, KeyProg1, 1), 10, KeyProg1, 0)); err != nil {
		t.Fatal(err)
	}
	p := <-ch
	if !p.Time.Equal(t0) || p.Long {
		t.Errorf("press = %+v", p)
	}
	cancel()
	if rest := collect(ch); len(rest) != 0 {
		t.Errorf("extra presses %v", rest)
	}
	if err := b.Err(); err != nil {
		t.Errorf("Err after cancel = %v", err)
	}
	if again := collect(b.Presses(t.Context())); len(again) != 0 || !errors.Is(b.Err(), ErrStarted) {
		t.Errorf("second Presses: %v, %v", again, b.Err())
	}
}

func TestEvdevShortRead(t *testing.T) {
	path, w := fifo(t)
	b, err := Open(path, Config{})
	if err != nil {
		t.Fatal(err)
	}
	ch := b.Presses(t.Context())
	rec := key(nil, 0, KeyProg1, 1)
	w.Write(rec[:5])
	w.Close()
	collect(ch)
	if !errors.Is(b.Err(), ErrShortRead) {
		t.Errorf("Err = %v, want ErrShortRead", b.Err())
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "nope"), Config{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open missing = %v", err)
	}
	if _, err := Open("/dev/null", Config{Debounce: -1}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("Open bad config = %v", err)
	}
	b, err := Open("/dev/null", Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Error(err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestFindDevice(t *testing.T) {
	root := t.TempDir()
	sys := filepath.Join(root, "sys", "class", "input")
	for ev, name := range map[string]string{"event0": "pwrkey", "event1": "gpio-keys", "mouse0": "gpio-keys"} {
		d := filepath.Join(sys, ev, "device")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "name"), []byte(name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := FindDevice(sys, "/dev/input", "gpio-keys")
	if err != nil || got != "/dev/input/event1" {
		t.Errorf("FindDevice = %q, %v", got, err)
	}
	if _, err := FindDevice(sys, "/dev/input", "keys"); !errors.Is(err, ErrNotFound) {
		t.Errorf("FindDevice(keys) = %v", err)
	}
}

// FuzzEvents feeds arbitrary bytes through the decoder and debouncer as the
// reader would; it must never panic and presses must not exceed releases.
func FuzzEvents(f *testing.F) {
	f.Add(key(key(nil, 0, KeyProg1, 1), 100, KeyProg1, 0))
	f.Add(key(key(key(nil, 0, KeyProg1, 1), 5, KeyProg1, 0), 2500, KeyProg1, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		size := eventSize(timevalSize)
		d := debouncer{debounce: DefaultDebounce, long: DefaultLongPress}
		presses, releases := 0, 0
		for len(b) >= size {
			ev := decodeEvent(b[:size], timevalSize)
			b = b[size:]
			if ev.typ != evKey || ev.code != KeyProg1 || ev.value == 2 {
				continue
			}
			if ev.value == 0 {
				releases++
			}
			if _, ok := d.event(ev.value != 0, ev.time); ok {
				presses++
			}
		}
		if at, due := d.pending(); due {
			if _, ok := d.settle(at); ok {
				presses++
			}
		}
		if presses > releases {
			t.Fatalf("%d presses from %d releases", presses, releases)
		}
	})
}
