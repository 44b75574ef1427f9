package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"
)

// Errors returned by the writer.
var (
	// ErrFormat means the Format passed to Create is unusable.
	ErrFormat = errors.New("wav: invalid format")
	// ErrPartialFrame means Write got a number of samples that is not a
	// multiple of the channel count.
	ErrPartialFrame = errors.New("wav: sample count is not a whole number of frames")
	// ErrTooLarge means the data would exceed the 4 GiB RIFF limit.
	ErrTooLarge = errors.New("wav: file would exceed the RIFF 4 GiB limit")
	// ErrFinished means the writer was already finished or closed.
	ErrFinished = errors.New("wav: writer already finished")
	// ErrBadTag means an InfoTag or Cue cannot be stored.
	ErrBadTag = errors.New("wav: invalid tag")
)

// DefaultBlockSize is the write block size used when Create gets blockSize <= 0.
const DefaultBlockSize = 256 << 10

// FileMode is the mode Create gives a new file (before the umask): a
// recording is for its owner and group, never for every local user.
// spanrec's raw media files are created with it too.
const FileMode = 0o640

// minBlockSize keeps the canonical header inside the first block.
const minBlockSize = 512

// HeaderSize is the size of the canonical header before the sample data.
const HeaderSize = 44

// maxRIFF leaves room for the trailing metadata and signature chunks below
// the 32-bit RIFF size limit.
const maxRIFF = 1<<32 - 1 - 1<<20

// Format describes 16-bit PCM audio.
type Format struct {
	// SampleRate is in frames per second, e.g. 8000.
	SampleRate int
	// Channels is the number of interleaved channels, e.g. 2.
	Channels int
}

func (f Format) valid() bool {
	return f.SampleRate > 0 && f.SampleRate <= 1<<20 && f.Channels > 0 && f.Channels <= 64
}

// InfoTag is one entry of the LIST/INFO metadata chunk.
type InfoTag struct {
	// ID is the four-character tag, e.g. "INAM", "ICMT", "ICRD", "ISFT",
	// "IART", "ISBJ".
	ID string
	// Value is the text; it must not contain NUL bytes.
	Value string
}

// Cue is a marker at a sample frame, stored in a "cue " chunk with its label
// in a LIST/adtl "labl" chunk.
type Cue struct {
	// Frame is the sample frame (not byte) offset into the data.
	Frame uint32
	// Label is the marker text; it must not contain NUL bytes.
	Label string
}

// Writer writes a 16-bit PCM WAV file. It is not safe for concurrent use.
type Writer struct {
	f        *os.File
	format   Format
	buf      []byte // one block; buf[:n] is pending, buf[0] goes to bufOff
	n        int
	written  int   // buf[:written] is in the file already (written out early)
	ondisk   int64 // the data size the file's header gives
	wrote    int64 // bytes passed to the file's writes
	bufOff   int64
	data     int64 // sample data bytes written so far
	finished bool
	closed   bool
	// q, when set, takes the writes (UseQueue) until settled; qerr is the
	// first of them that failed.
	q       *Queue
	settled bool
	qerr    atomic.Pointer[error]
}

// Create creates path (which must not exist; its directory must) and writes
// a canonical header whose sizes describe an empty recording, so the file is
// a valid WAV from the start. blockSize is the size of the write buffer
// (DefaultBlockSize when <= 0, rounded to an even number of at least 512
// bytes); sample data reaches the file in whole blocks at block-aligned
// offsets, except for explicit Flush and Finish calls.
func Create(path string, f Format, blockSize int) (*Writer, error) {
	if !f.valid() {
		return nil, fmt.Errorf("%w: %d Hz, %d channels", ErrFormat, f.SampleRate, f.Channels)
	}
	if blockSize <= 0 {
		blockSize = DefaultBlockSize
	}
	blockSize = max(blockSize&^1, minBlockSize)
	file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, FileMode)
	if err != nil {
		return nil, fmt.Errorf("wav: create: %w", err)
	}
	w := &Writer{f: file, format: f, buf: make([]byte, blockSize), wrote: HeaderSize}
	putHeader(w.buf, f, 0)
	w.n, w.written = HeaderSize, HeaderSize
	if _, err := file.WriteAt(w.buf[:HeaderSize], 0); err != nil {
		file.Close()
		os.Remove(path)
		return nil, fmt.Errorf("wav: write header of %s: %w", path, err)
	}
	return w, nil
}

// putHeader writes the canonical 44-byte header for dataBytes of samples.
func putHeader(b []byte, f Format, dataBytes int64) {
	le := binary.LittleEndian
	copy(b[0:], "RIFF")
	le.PutUint32(b[4:], uint32(36+dataBytes))
	copy(b[8:], "WAVEfmt ")
	le.PutUint32(b[16:], 16)
	le.PutUint16(b[20:], 1) // PCM
	le.PutUint16(b[22:], uint16(f.Channels))
	le.PutUint32(b[24:], uint32(f.SampleRate))
	le.PutUint32(b[28:], uint32(f.SampleRate*f.Channels*2))
	le.PutUint16(b[32:], uint16(f.Channels*2))
	le.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	le.PutUint32(b[40:], uint32(dataBytes))
}

// writeAt writes b at off, counting the bytes.
func (w *Writer) writeAt(b []byte, off int64) error { return w.out(b, nil, off) }

// out writes a then b, contiguous at off, counting the bytes: on the
// writer's queue if it has one, else at once.
func (w *Writer) out(a, b []byte, off int64) error {
	w.wrote += int64(len(a) + len(b))
	if w.q != nil && !w.settled {
		if err := w.queueErr(); err != nil {
			return err
		}
		if w.q.put(w, a, b, off) {
			return nil
		}
	}
	return writeTwoAt(w.f, a, b, off)
}

// UseQueue hands the writer's writes to q from now on, until it is
// finished or closed (see Queue). Call it before the writer is shared.
func (w *Writer) UseQueue(q *Queue) { w.q = q }

// queueErr is the first queued write of w that failed, or nil.
func (w *Writer) queueErr() error {
	if p := w.qerr.Load(); p != nil {
		return *p
	}
	return nil
}

// failQueued records that w's queued write at off failed (the first
// failure stays).
func (w *Writer) failQueued(err error, off int64) {
	err = fmt.Errorf("wav: write at %d: %w", off, err)
	w.qerr.CompareAndSwap(nil, &err)
}

// settle waits for w's queued writes and detaches the queue: what
// follows (finishing, closing) is written at once. It returns the first
// queued write that failed.
func (w *Writer) settle() error {
	if w.q != nil && !w.settled {
		w.q.Wait()
		w.settled = true
	}
	return w.queueErr()
}

// BytesWritten returns how many bytes the writer has passed to the file's
// writes so far (its write volume, header and rewrites included).
func (w *Writer) BytesWritten() int64 { return w.wrote }

// Format returns the format the file was created with.
func (w *Writer) Format() Format { return w.format }

// File returns the underlying file, opened read-write, e.g. for
// media/sign.Append after Finish.
func (w *Writer) File() *os.File { return w.f }

// Frames returns the number of sample frames written so far.
func (w *Writer) Frames() int64 { return w.data / int64(2*w.format.Channels) }

// Write appends interleaved samples (one int16 per channel per frame). The
// samples are copied into the block buffer; a full block is written to the
// file. It makes no allocations.
func (w *Writer) Write(interleaved []int16) error {
	if w.finished || w.closed {
		return ErrFinished
	}
	if len(interleaved)%w.format.Channels != 0 {
		return ErrPartialFrame
	}
	if HeaderSize+w.data+2*int64(len(interleaved)) > maxRIFF {
		return ErrTooLarge
	}
	for len(interleaved) > 0 {
		if nativeLittleEndian && 2*len(interleaved) >= len(w.buf)-w.n+len(w.buf) {
			// Whole blocks go to the file straight from the caller's
			// samples (the rest of a pending block with them, in one
			// write): one copy of the audio less, and the block
			// buffer can be small.
			k := w.fillBlock(interleaved)
			bulk := (2*len(interleaved) - 2*k) / len(w.buf) * len(w.buf)
			if err := w.writeBlock(sampleBytes(interleaved[k:])[:bulk]); err != nil {
				return err
			}
			w.data += 2*int64(k) + int64(bulk)
			interleaved = interleaved[k+bulk/2:]
			continue
		}
		k := min((len(w.buf)-w.n)/2, len(interleaved))
		dst := w.buf[w.n : w.n+2*k]
		if nativeLittleEndian {
			// WAV samples are little-endian like the machine's: one copy.
			copy(dst, sampleBytes(interleaved[:k]))
		} else {
			for i, s := range interleaved[:k] {
				binary.LittleEndian.PutUint16(dst[2*i:], uint16(s))
			}
		}
		w.n += 2 * k
		w.data += 2 * int64(k)
		interleaved = interleaved[k:]
		if w.n == len(w.buf) {
			if err := w.writeBlock(nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// nativeLittleEndian tells whether int16 samples in memory are already in
// WAV byte order (true on amd64, arm and arm64).
var nativeLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// fillBlock copies the first samples of interleaved into the pending
// block until it is full (or holds nothing: an empty block is not filled),
// and returns how many it took.
func (w *Writer) fillBlock(interleaved []int16) int {
	if w.n == 0 {
		return 0
	}
	k := (len(w.buf) - w.n) / 2
	copy(w.buf[w.n:], sampleBytes(interleaved[:k]))
	w.n += 2 * k
	return k
}

// sampleBytes is s seen as bytes, in the machine's byte order (WAV's where
// nativeLittleEndian): no copy.
func sampleBytes(s []int16) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 2*len(s))
}

// writeBlock writes the full (or, with bulk, empty) block, what of it is
// not in the file yet, at its block-aligned offset, and then bulk, whole
// blocks that follow it in the file, in the same write.
func (w *Writer) writeBlock(bulk []byte) error {
	head := w.buf[w.written:w.n]
	off := w.bufOff + int64(w.written)
	if err := w.out(head, bulk, off); err != nil {
		return fmt.Errorf("wav: write block at %d: %w", off, err)
	}
	w.bufOff += int64(w.n + len(bulk))
	w.n, w.written = 0, 0
	return nil
}

// writePending writes the partially filled block without consuming it, so
// that the next full write of the same block stays block-aligned. Bytes
// written out before are not written again.
func (w *Writer) writePending() error {
	return w.writeUpTo(w.n)
}

// writeUpTo writes buf[written:end] (end <= n) to the file.
func (w *Writer) writeUpTo(end int) error {
	if end <= w.written {
		return nil
	}
	if err := w.writeAt(w.buf[w.written:end], w.bufOff+int64(w.written)); err != nil {
		return fmt.Errorf("wav: write at %d: %w", w.bufOff+int64(w.written), err)
	}
	w.written = end
	return nil
}

// patchSizes stores the RIFF and data sizes in the file header (and in the
// buffered copy of the header while the first block is still pending).
func (w *Writer) patchSizes(riff, data uint32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], riff)
	if err := w.writeAt(b[:], 4); err != nil {
		return fmt.Errorf("wav: patch RIFF size: %w", err)
	}
	if w.bufOff == 0 {
		copy(w.buf[4:], b[:])
	}
	binary.LittleEndian.PutUint32(b[:], data)
	if err := w.writeAt(b[:], 40); err != nil {
		return fmt.Errorf("wav: patch data size: %w", err)
	}
	if w.bufOff == 0 {
		copy(w.buf[40:], b[:])
	}
	w.ondisk = int64(data)
	return nil
}

// Flush writes buffered samples, patches the header so the file on disk is a
// valid WAV holding everything written so far, and fsyncs it.
func (w *Writer) Flush() error {
	if err := w.WriteOut(); err != nil {
		return err
	}
	return w.Sync()
}

// WriteOut is Flush without the fsync: the data and header reach the
// operating system (fast), Sync makes them durable (slow; it may run on
// another goroutine while writing goes on).
func (w *Writer) WriteOut() error {
	if w.finished || w.closed {
		return ErrFinished
	}
	if err := w.writePending(); err != nil {
		return err
	}
	return w.patchSizes(uint32(36+w.data), uint32(w.data))
}

// PageSize is the unit WriteOutPages writes in: the page of the operating
// system's cache (4 KiB on the appliance's ARM and on x86).
const PageSize = 4096

// HeaderLag is how far the data size in the header of a file written
// with WriteOutPages may lag the samples in it: the header's page is
// rewritten once per HeaderLag of audio (1 MiB: 33 s of a narrowband
// stereo call, 11 s at 48 kHz), not at every flush, which would write a
// page of storage per call per flush (12% more than the audio at 8 kHz).
// Each rewrite costs a page: 0.4% of the audio (at 256 KiB it was 1.6%,
// a third of what the live write volume exceeded the audio by).
const HeaderLag = 1 << 20

// WriteOutPages is WriteOut of the whole pages only: the buffered samples
// up to the last page boundary of the file reach the operating system,
// written once (append only; nothing already written is written again).
// The rest of the last page stays in memory until the page is full, so
// the periodic flush of a live recording writes no page of storage twice:
// write volume is the audio's. The header gives the data size they end
// at once it lags by HeaderLag or more (one write); until then a reader
// of the file sees a valid WAV of fewer samples, and Reopen, after a
// crash, takes every sample up to the end of the file.
func (w *Writer) WriteOutPages() error {
	if w.finished || w.closed {
		return ErrFinished
	}
	end := int((w.bufOff+int64(w.n))&^(PageSize-1) - w.bufOff)
	if err := w.writeUpTo(end); err != nil {
		return err
	}
	// (Write may have written whole blocks itself.)
	data := w.bufOff + int64(w.written) - HeaderSize
	if data-w.ondisk < HeaderLag {
		return nil
	}
	var h [HeaderSize]byte
	putHeader(h[:], w.format, data)
	if w.bufOff == 0 {
		copy(w.buf[4:8], h[4:8])
		copy(w.buf[40:44], h[40:44])
	}
	// Bytes 4 to 44 in one write: the sizes and the constant fields
	// between them.
	if err := w.writeAt(h[4:], 4); err != nil {
		return fmt.Errorf("wav: patch sizes: %w", err)
	}
	w.ondisk = data
	return nil
}

// Sync fsyncs the file, after the writer's queued writes. It changes no
// state of the Writer, so it is safe to call from another goroutine than
// the one writing.
func (w *Writer) Sync() error {
	if q := w.q; q != nil {
		q.Wait()
	}
	if err := w.queueErr(); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("wav: fsync: %w", err)
	}
	return nil
}

func validText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return false
		}
	}
	return true
}

func validID(id string) bool {
	if len(id) != 4 {
		return false
	}
	for i := 0; i < 4; i++ {
		if id[i] < 0x20 || id[i] > 0x7E {
			return false
		}
	}
	return true
}

// appendChunk appends a chunk with the given ID and body, padded to even length.
func appendChunk(b []byte, id string, body ...[]byte) []byte {
	size := 0
	for _, p := range body {
		size += len(p)
	}
	b = append(b, id...)
	b = binary.LittleEndian.AppendUint32(b, uint32(size))
	for _, p := range body {
		b = append(b, p...)
	}
	if size%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// appendZ appends a NUL-terminated string chunk (INFO entries, labl).
func appendZ(b []byte, id string, prefix []byte, s string) []byte {
	body := make([]byte, 0, len(prefix)+len(s)+1)
	body = append(append(append(body, prefix...), s...), 0)
	return appendChunk(b, id, body)
}

// trailer builds the LIST/INFO, "cue " and LIST/adtl chunks.
func trailer(tags []InfoTag, cues []Cue) ([]byte, error) {
	for _, t := range tags {
		if !validID(t.ID) {
			return nil, fmt.Errorf("%w: INFO id %q must be 4 printable ASCII characters", ErrBadTag, t.ID)
		}
		if !validText(t.Value) {
			return nil, fmt.Errorf("%w: INFO %s value contains a NUL byte", ErrBadTag, t.ID)
		}
	}
	for i, c := range cues {
		if !validText(c.Label) {
			return nil, fmt.Errorf("%w: cue %d label contains a NUL byte", ErrBadTag, i)
		}
	}
	var out []byte
	if len(tags) > 0 {
		var info []byte
		for _, t := range tags {
			info = appendZ(info, t.ID, nil, t.Value)
		}
		out = appendChunk(out, "LIST", []byte("INFO"), info)
	}
	if len(cues) > 0 {
		le := binary.LittleEndian
		cue := le.AppendUint32(nil, uint32(len(cues)))
		var adtl []byte
		for i, c := range cues {
			id := uint32(i + 1)
			cue = le.AppendUint32(cue, id)
			cue = le.AppendUint32(cue, c.Frame) // position
			cue = append(cue, "data"...)
			cue = le.AppendUint32(cue, 0) // chunk start
			cue = le.AppendUint32(cue, 0) // block start
			cue = le.AppendUint32(cue, c.Frame)
			if c.Label != "" {
				adtl = appendZ(adtl, "labl", le.AppendUint32(nil, id), c.Label)
			}
		}
		out = appendChunk(out, "cue ", cue)
		if len(adtl) > 0 {
			out = appendChunk(out, "LIST", []byte("adtl"), adtl)
		}
	}
	return out, nil
}

// Finish writes the remaining samples, pads the data chunk to even length,
// appends a LIST/INFO chunk with tags (if any) and, if cues exist, a "cue "
// chunk plus LIST/adtl labels, patches the RIFF and data sizes and fsyncs.
// The file stays open (see File) so the caller can sign it; call Close
// afterwards. Invalid tags are reported before anything is written.
func (w *Writer) Finish(tags []InfoTag, cues []Cue) error {
	if err := w.FinishUnsynced(tags, cues); err != nil {
		return err
	}
	return w.Sync()
}

// FinishUnsynced is Finish without the fsync: the finished file reaches the
// operating system, and the caller makes it durable (Sync, or one
// syncfs(2) for many files) before it relies on it.
func (w *Writer) FinishUnsynced(tags []InfoTag, cues []Cue) error {
	if w.finished || w.closed {
		return ErrFinished
	}
	tr, err := trailer(tags, cues)
	if err != nil {
		return err
	}
	end := HeaderSize + w.data
	if end%2 == 1 {
		tr = append([]byte{0}, tr...)
	}
	if end+int64(len(tr)) > maxRIFF {
		return ErrTooLarge
	}
	if err := w.writePending(); err != nil {
		return err
	}
	if err := w.settle(); err != nil {
		return err
	}
	w.finished = true
	if len(tr) > 0 {
		if err := w.writeAt(tr, end); err != nil {
			return fmt.Errorf("wav: write metadata: %w", err)
		}
	}
	end += int64(len(tr))
	if err := w.f.Truncate(end); err != nil {
		return fmt.Errorf("wav: truncate: %w", err)
	}
	return w.patchSizes(uint32(end-8), uint32(w.data))
}

// Close closes the file. A writer that was not finished is flushed first, so
// the file is a valid WAV without metadata.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	var err error
	if !w.finished {
		err = w.Flush()
	}
	if serr := w.settle(); serr != nil && err == nil {
		err = serr
	}
	w.closed = true
	if cerr := w.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("wav: close: %w", cerr)
	}
	return err
}

// Printable makes text safe for INFO values and cue labels, which players
// show as they are: control characters (NUL among them, which the format
// cannot hold) and bytes that are not UTF-8 become \xNN escapes. Text
// without them comes back unchanged.
func Printable(s string) string {
	var b strings.Builder
	dirty := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unprintable(r, n) {
			if !dirty {
				dirty = true
				b.Grow(len(s) + 16)
				b.WriteString(s[:i])
			}
			for _, c := range []byte(s[i : i+n]) {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		} else if dirty {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	if !dirty {
		return s
	}
	return b.String()
}

// unprintable reports whether rune r (of n bytes) cannot be shown as it is:
// C0 and C1 controls, DEL and bytes that are not UTF-8.
func unprintable(r rune, n int) bool {
	return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == utf8.RuneError && n == 1
}
