package capture_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"spanrec/firmware/capture"
	"spanrec/firmware/capture/capturetest"
)

// handPcap encodes a classic pcap file by hand in either byte order and
// timestamp resolution; pcapgo writes only little-endian.
func handPcap(order binary.AppendByteOrder, nano bool, link capture.LinkType, times []time.Time, frames [][]byte) []byte {
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	b := order.AppendUint32(nil, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 65535)
	b = order.AppendUint32(b, uint32(link))
	for i, fr := range frames {
		sub := times[i].Nanosecond() / 1000
		if nano {
			sub = times[i].Nanosecond()
		}
		b = order.AppendUint32(b, uint32(times[i].Unix()))
		b = order.AppendUint32(b, uint32(sub))
		b = order.AppendUint32(b, uint32(len(fr)))
		b = order.AppendUint32(b, uint32(len(fr)))
		b = append(b, fr...)
	}
	return b
}

func TestOpenFileAllMagics(t *testing.T) {
	frames := [][]byte{
		capturetest.UDP(capturetest.FrameOptions{}, src4, dst4, []byte("one")),
		capturetest.UDP(capturetest.FrameOptions{}, src6, dst6, []byte("two")),
	}
	times := []time.Time{t0, t0.Add(1500 * time.Microsecond)}
	for _, order := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, nano := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/nano=%v", order, nano), func(t *testing.T) {
				data := handPcap(order, nano, capture.LinkEthernet, times, frames)
				s, err := capture.OpenFile(writeFile(t, "m.pcap", data))
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				got := readAll(t, s)
				if len(got) != 2 {
					t.Fatalf("%d frames", len(got))
				}
				for i := range got {
					want := times[i]
					if !nano {
						want = want.Truncate(time.Microsecond)
					}
					if !bytes.Equal(got[i].Data, frames[i]) || !got[i].Time.Equal(want) || got[i].Link != capture.LinkEthernet {
						t.Errorf("frame %d: %v link %d, %d bytes", i, got[i].Time, got[i].Link, len(got[i].Data))
					}
				}
			})
		}
	}
}

func TestNewReaderGzip(t *testing.T) {
	raw, err := os.ReadFile(samplePcap)
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(raw)
	zw.Close()
	s, err := capture.NewReader(&z)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(readAll(t, s)); n != 602 {
		t.Errorf("%d frames from gzipped sample, want 602", n)
	}
}

func TestSourceErrors(t *testing.T) {
	frames := [][]byte{
		capturetest.UDP(capturetest.FrameOptions{}, src4, dst4, []byte("first")),
		capturetest.UDP(capturetest.FrameOptions{}, src4, dst4, []byte("second")),
	}
	good := pcapOf(t, capture.LinkEthernet, frames...)
	lenField := 24 + 16 + len(frames[0]) + 8 // second record's capture length

	var ng bytes.Buffer
	nw, _ := capture.NewPcapNgWriter(&ng, capture.LinkEthernet, capture.PcapNgOptions{})
	for _, fr := range frames {
		nw.Write(t0, fr)
	}
	nw.Flush()
	goodNg := ng.Bytes()

	hugeRecord := bytes.Clone(good)
	binary.LittleEndian.PutUint32(hugeRecord[lenField:], 1<<30)
	binary.LittleEndian.PutUint32(hugeRecord[lenField+4:], 1<<30)
	capOverLen := bytes.Clone(good)
	binary.LittleEndian.PutUint32(capOverLen[lenField+4:], 3)
	hugeSnap := bytes.Clone(good)
	binary.LittleEndian.PutUint32(hugeSnap[16:], 0xffffffff)
	binary.LittleEndian.PutUint32(hugeSnap[lenField:], 300<<10)
	binary.LittleEndian.PutUint32(hugeSnap[lenField+4:], 300<<10)
	hugeNg := bytes.Clone(goodNg)
	// The last EPB's captured length (EPB: type, length, interface,
	// ts high, ts low, captured length, ...).
	lastEPB := bytes.LastIndex(goodNg, []byte{6, 0, 0, 0})
	binary.LittleEndian.PutUint32(hugeNg[lastEPB+20:], 1<<31-1)

	for _, tc := range []struct {
		name   string
		data   []byte
		frames int  // frames read before the error
		open   bool // error at open
		want   error
	}{
		{"clean-pcap", good, 2, false, io.EOF},
		{"clean-pcapng", goodNg, 2, false, io.EOF},
		{"truncated-data", good[:len(good)-5], 1, false, capture.ErrCorrupt},
		{"header-only", good[:lenField+8], 1, false, capture.ErrCorrupt},
		{"truncated-header", good[:lenField], 1, false, capture.ErrCorrupt},
		{"huge-record", hugeRecord, 1, false, capture.ErrCorrupt},
		{"caplen-over-len", capOverLen, 1, false, capture.ErrCorrupt},
		{"huge-snaplen", hugeSnap, 1, false, capture.ErrCorrupt},
		{"truncated-pcapng", goodNg[:len(goodNg)-3], 1, false, capture.ErrCorrupt},
		{"huge-pcapng-record", hugeNg, 1, false, capture.ErrCorrupt},
		{"file-header-cut", good[:10], 0, true, capture.ErrCorrupt},
		{"not-a-capture", []byte("GET / HTTP/1.1\r\n\r\n"), 0, true, capture.ErrUnknownFormat},
		{"empty", nil, 0, true, capture.ErrUnknownFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := capture.NewReader(bytes.NewReader(tc.data))
			if tc.open {
				if !errors.Is(err, tc.want) {
					t.Fatalf("open error %v, want %v", err, tc.want)
				}
				t.Logf("open: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var f capture.Frame
			n := 0
			for err = s.ReadFrame(&f); err == nil; err = s.ReadFrame(&f) {
				n++
			}
			if n != tc.frames || !errors.Is(err, tc.want) {
				t.Fatalf("%d frames then %v; want %d then %v", n, err, tc.frames, tc.want)
			}
			t.Logf("%d frames, then: %v", n, err)
			if tc.want == capture.ErrCorrupt && !strings.Contains(err.Error(), fmt.Sprintf("frame %d", n+1)) {
				t.Errorf("error %q does not name frame %d", err, n+1)
			}
			if again := s.ReadFrame(&f); again != err {
				t.Errorf("error not sticky: %v then %v", err, again)
			}
			s.Close()
			if err := s.ReadFrame(&f); !errors.Is(err, capture.ErrClosed) {
				t.Errorf("after Close: %v", err)
			}
		})
	}
}

// failReader returns its data, then a read error.
type failReader struct {
	data []byte
	err  error
}

func (r *failReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestSourceReadError keeps an I/O failure apart from a corrupt file.
func TestSourceReadError(t *testing.T) {
	errDisk := errors.New("disk on fire")
	good := pcapOf(t, capture.LinkEthernet, capturetest.UDP(capturetest.FrameOptions{}, src4, dst4, []byte("x")))
	s, err := capture.NewReader(&failReader{data: good, err: errDisk})
	if err != nil {
		t.Fatal(err)
	}
	var f capture.Frame
	if err := s.ReadFrame(&f); err != nil {
		t.Fatal(err)
	}
	err = s.ReadFrame(&f)
	if !errors.Is(err, errDisk) || errors.Is(err, capture.ErrCorrupt) {
		t.Errorf("got %v", err)
	}
}

func TestOpenFileMissing(t *testing.T) {
	if _, err := capture.OpenFile("/nonexistent/x.pcap"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v", err)
	}
}

// TestReadFrameZeroAllocs reads the sample capture over and over: reading a
// frame allocates nothing once the buffer exists.
func TestReadFrameZeroAllocs(t *testing.T) {
	raw, err := os.ReadFile(samplePcap)
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(raw)
	s, err := capture.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	var f capture.Frame
	if err := s.ReadFrame(&f); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(500, func() {
		if err := s.ReadFrame(&f); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocs per ReadFrame", allocs)
	}
	var ng bytes.Buffer
	w, _ := capture.NewPcapNgWriter(&ng, capture.LinkEthernet, capture.PcapNgOptions{})
	frame := capturetest.UDP(capturetest.FrameOptions{}, src4, dst4, payloadN(172, 0))
	for range 700 {
		w.Write(t0, frame)
	}
	w.Flush()
	sn, err := capture.NewReader(&ng)
	if err != nil {
		t.Fatal(err)
	}
	sn.ReadFrame(&f)
	allocs = testing.AllocsPerRun(500, func() {
		if err := sn.ReadFrame(&f); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("pcapng: %.1f allocs per ReadFrame", allocs)
	}
}
