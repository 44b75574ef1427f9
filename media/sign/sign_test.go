package sign

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"spanrec/media/wav"
)

func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

// makeSigned writes a stereo call recording with metadata and cues, signs it
// with priv and returns its path and bytes.
func makeSigned(t testing.TB, frames int, priv ed25519.PrivateKey) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "call.wav")
	w, err := wav.Create(path, wav.Format{SampleRate: 8000, Channels: 2}, 0)
	if err != nil {
		t.Fatal(err)
	}
	s := make([]int16, 2*frames)
	for i := range frames {
		s[2*i] = int16(10000 * math.Sin(float64(i)/3))
		s[2*i+1] = int16(7000 * math.Cos(float64(i)/5))
	}
	if err := w.Write(s); err != nil {
		t.Fatal(err)
	}
	tags := []wav.InfoTag{{ID: "INAM", Value: "Alice -> 2001"}, {ID: "ICRD", Value: "2025-01-02T03:04:05Z"}, {ID: "ISFT", Value: "spanrec"}}
	if err := w.Finish(tags, []wav.Cue{{Frame: 10, Label: "answer"}}); err != nil {
		t.Fatal(err)
	}
	sum, size, err := Append(w.File(), priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != size || sha256.Sum256(b) != sum {
		t.Fatalf("Append returned size %d sum %x; file has %d bytes, sum %x", size, sum, len(b), sha256.Sum256(b))
	}
	return path, b
}

func verifyBytes(b []byte, pub ed25519.PublicKey) error {
	return Verify(bytes.NewReader(b), int64(len(b)), pub)
}

func TestSignAndVerify(t *testing.T) {
	priv := testKey(1)
	pub := priv.Public().(ed25519.PublicKey)
	path, b := makeSigned(t, 1000, priv)
	if err := VerifyFile(path, pub); err != nil {
		t.Fatalf("VerifyFile: %v", err)
	}
	if err := VerifyFile(path, nil); err != nil {
		t.Fatalf("VerifyFile with embedded key: %v", err)
	}
	if k, err := EmbeddedKey(bytes.NewReader(b), int64(len(b))); err != nil || !bytes.Equal(k, pub) {
		t.Errorf("EmbeddedKey = %x, %v", k, err)
	}
	// Still an ordinary WAV: the signature is the last chunk, the rest intact.
	p, err := wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	last := p.Chunks[len(p.Chunks)-1]
	if last.ID != ChunkID || last.Size != 100 || last.Offset+ChunkSize != int64(len(b)) || p.Frames() != 1000 {
		t.Errorf("chunks %+v frames %d", p.Chunks, p.Frames())
	}
	if v, _ := p.Tag("INAM"); v != "Alice -> 2001" || len(p.Cues) != 1 {
		t.Errorf("metadata lost: %+v %+v", p.Info, p.Cues)
	}
	if string(b[last.Offset+8:last.Offset+12]) != Version || !bytes.Equal(b[last.Offset+12:last.Offset+44], pub) {
		t.Error("chunk body does not start with version and public key")
	}
	sum, size, err := FileSHA256(path)
	if err != nil || size != int64(len(b)) || sum != sha256.Sum256(b) {
		t.Errorf("FileSHA256 = %x %d %v", sum, size, err)
	}
	// The signature is Ed25519 over the context string and the digest of
	// everything but the signature bytes.
	sigOff := len(b) - 64
	d := sha256.New()
	d.Write(b[:sigOff])
	msg := append([]byte("spanrec-wav-signature-v1\x00"), d.Sum(nil)...)
	if !ed25519.Verify(pub, msg, b[sigOff:]) {
		t.Error("signature does not follow the documented construction")
	}
}

func TestSoxIgnoresSignature(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Skip("sox not installed; skipping player-compatibility check")
	}
	path, _ := makeSigned(t, 800, testKey(2))
	out, err := exec.Command(sox, "--i", path).CombinedOutput()
	if err != nil {
		t.Fatalf("sox --i on a signed file: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "800 samples") {
		t.Errorf("sox sees a different length:\n%s", out)
	}
}

func isVerifyError(err error) bool {
	for _, e := range []error{ErrNoSignature, ErrNotLast, ErrKeyMismatch, ErrBadSignature, ErrMalformed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Flipping any single byte of the file — header, fmt, data, LIST, cue,
// signature chunk header, version, public key, signature — is detected.
func TestEveryByteFlipFails(t *testing.T) {
	priv := testKey(3)
	pub := priv.Public().(ed25519.PublicKey)
	_, b := makeSigned(t, 300, priv)
	counts := map[string]int{}
	for i := range b {
		for _, mask := range []byte{0x01, 0x80} {
			c := append([]byte(nil), b...)
			c[i] ^= mask
			for _, k := range []ed25519.PublicKey{pub, nil} {
				err := verifyBytes(c, k)
				if err == nil {
					t.Fatalf("flipping bit %#02x of byte %d (of %d) went undetected (key %v)", mask, i, len(b), k != nil)
				}
				if !isVerifyError(err) {
					t.Fatalf("byte %d: unclassified error %v", i, err)
				}
				if k != nil {
					for _, e := range []error{ErrNoSignature, ErrNotLast, ErrKeyMismatch, ErrBadSignature, ErrMalformed} {
						if errors.Is(err, e) {
							counts[e.Error()[:12]]++
						}
					}
				}
			}
		}
	}
	t.Logf("%d bytes, error kinds: %v", len(b), counts)
}

// Flips across a file larger than the 256 KiB read buffer.
func TestLargeFile(t *testing.T) {
	priv := testKey(4)
	pub := priv.Public().(ed25519.PublicKey)
	_, b := makeSigned(t, 200000, priv) // 800 KB of audio
	if err := verifyBytes(b, pub); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 4, 22, 40, 44, 256<<10 - 1, 256 << 10, 256<<10 + 1, 512 << 10, len(b) / 2, len(b) - 200, len(b) - 108, len(b) - 100, len(b) - 64, len(b) - 1} {
		c := append([]byte(nil), b...)
		c[i] ^= 0x10
		if err := verifyBytes(c, pub); err == nil {
			t.Errorf("flip at %d undetected", i)
		}
	}
}

func TestTruncationFails(t *testing.T) {
	priv := testKey(5)
	pub := priv.Public().(ed25519.PublicKey)
	_, b := makeSigned(t, 200, priv)
	for n := range len(b) {
		if err := verifyBytes(b[:n], pub); err == nil || !isVerifyError(err) {
			t.Fatalf("truncated to %d of %d bytes: %v", n, len(b), err)
		}
	}
	if err := verifyBytes(b[:len(b)-64], pub); !errors.Is(err, ErrMalformed) {
		t.Errorf("signature cut off: %v", err)
	}
	if err := verifyBytes(b[:len(b)-ChunkSize], pub); !errors.Is(err, ErrNoSignature) {
		t.Errorf("signature chunk removed: %v", err)
	}
}

func TestAppendedBytesFail(t *testing.T) {
	priv := testKey(6)
	pub := priv.Public().(ed25519.PublicKey)
	_, b := makeSigned(t, 200, priv)
	extraChunk := append([]byte("junk\x04\x00\x00\x00"), 1, 2, 3, 4)
	for _, extra := range [][]byte{{0}, {0, 0}, make([]byte, 7), make([]byte, 8), make([]byte, 108), extraChunk} {
		c := append(append([]byte(nil), b...), extra...)
		if err := verifyBytes(c, pub); !errors.Is(err, ErrNotLast) {
			t.Errorf("%d bytes appended: err = %v, want ErrNotLast", len(extra), err)
		}
	}
	// Appending a chunk and fixing the RIFF size still breaks the signature
	// placement rule.
	c := append(append([]byte(nil), b...), extraChunk...)
	binary.LittleEndian.PutUint32(c[4:], uint32(len(c)-8))
	if err := verifyBytes(c, pub); !errors.Is(err, ErrNotLast) {
		t.Errorf("chunk appended with RIFF size fixed: %v", err)
	}
}

func TestWrongKey(t *testing.T) {
	_, b := makeSigned(t, 100, testKey(7))
	other := testKey(8).Public().(ed25519.PublicKey)
	err := verifyBytes(b, other)
	if !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("err = %v, want ErrKeyMismatch", err)
	}
	t.Logf("message: %v", err)
	// Re-signing someone else's recording with another key: the embedded key
	// changes, so checking against the appliance key still fails.
	c := append([]byte(nil), b...)
	sigKey := testKey(8)
	off := len(c) - 96
	copy(c[off:], sigKey.Public().(ed25519.PublicKey))
	d := sha256.New()
	d.Write(c[:len(c)-64])
	copy(c[len(c)-64:], ed25519.Sign(sigKey, append([]byte(context), d.Sum(nil)...)))
	if err := verifyBytes(c, nil); err != nil {
		t.Fatalf("re-signed file is self-consistent, got %v", err)
	}
	if err := verifyBytes(c, testKey(7).Public().(ed25519.PublicKey)); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("re-signed with another key: %v", err)
	}
}

func TestUnsignedAndAppendErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "u.wav")
	w, err := wav.Create(path, wav.Format{SampleRate: 8000, Channels: 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int16{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := w.Finish(nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := VerifyFile(path, nil); !errors.Is(err, ErrNoSignature) {
		t.Errorf("unsigned: %v", err)
	}
	if _, _, err := Append(w.File(), ed25519.PrivateKey{1, 2}); !errors.Is(err, ErrKey) {
		t.Errorf("short key: %v", err)
	}
	if _, _, err := Append(w.File(), testKey(9)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Append(w.File(), testKey(9)); !errors.Is(err, ErrAlreadySigned) {
		t.Errorf("second Append: %v", err)
	}
	w.Close()
	if err := VerifyFile(path, testKey(9).Public().(ed25519.PublicKey)); err != nil {
		t.Errorf("odd-length data file: %v", err)
	}
	// Not a WAV.
	junk := filepath.Join(dir, "junk")
	if err := os.WriteFile(junk, []byte("hello world, not a wave file"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(junk, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, _, err := Append(f, testKey(9)); !errors.Is(err, ErrMalformed) {
		t.Errorf("Append to junk: %v", err)
	}
	if err := VerifyFile(junk, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("Verify junk: %v", err)
	}
	if err := VerifyFile(filepath.Join(dir, "missing.wav"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func BenchmarkVerify1MB(b *testing.B) {
	priv := testKey(10)
	_, data := makeSigned(b, 250000, priv)
	pub := priv.Public().(ed25519.PublicKey)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := verifyBytes(data, pub); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzVerify checks that Verify never panics on arbitrary input and never
// accepts anything but a correctly signed file.
func FuzzVerify(f *testing.F) {
	priv := testKey(11)
	pub := priv.Public().(ed25519.PublicKey)
	_, b := makeSigned(f, 20, priv)
	f.Add(b)
	f.Add(b[:len(b)-1])
	f.Add([]byte("RIFF\x04\x00\x00\x00WAVEspsg\x64\x00\x00\x00ED1\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := verifyBytes(data, pub)
		if err == nil && !bytes.Equal(data, b) {
			t.Fatalf("accepted a modified file")
		}
		_ = verifyBytes(data, nil)
		_, _ = EmbeddedKey(bytes.NewReader(data), int64(len(data)))
	})
}

// TestSignerReusesItsBuffer: one Signer signs files of several sizes (a
// WAV larger than its buffer among them) as Append does, byte for byte.
func TestSignerReusesItsBuffer(t *testing.T) {
	priv := testKey(3)
	var s Signer
	for _, frames := range []int{10, 100000, 1000} {
		_, want := makeSigned(t, frames, priv) // signed by Append
		path := filepath.Join(t.TempDir(), "call.wav")
		unsigned := bytes.Clone(want[:len(want)-ChunkSize])
		binary.LittleEndian.PutUint32(unsigned[4:], uint32(len(unsigned)-8))
		if err := os.WriteFile(path, unsigned, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		sum, size, err := s.AppendUnsynced(f, priv)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) || sum != sha256.Sum256(want) || size != int64(len(want)) {
			t.Errorf("%d frames: the Signer's file differs from Append's (size %d, want %d)", frames, size, len(want))
		}
	}
}

// BenchmarkSign1MB signs a 1 MB recording again and again (its signature
// cut off each time): Append (a read-back buffer and an fsync per file)
// against a Signer's AppendUnsynced (one buffer for every file, no fsync).
func BenchmarkSign1MB(b *testing.B) {
	priv := testKey(12)
	_, signed := makeSigned(b, 250000, priv)
	unsigned := bytes.Clone(signed[:len(signed)-ChunkSize])
	binary.LittleEndian.PutUint32(unsigned[4:], uint32(len(unsigned)-8))
	path := filepath.Join(b.TempDir(), "call.wav")
	if err := os.WriteFile(path, unsigned, 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	unsign := func() {
		if err := f.Truncate(int64(len(unsigned))); err != nil {
			b.Fatal(err)
		}
		if _, err := f.WriteAt(unsigned[4:8], 4); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name string
		sign func() error
	}{
		{"Append", func() error { _, _, err := Append(f, priv); return err }},
		{"Signer", func() func() error {
			var s Signer
			return func() error { _, _, err := s.AppendUnsynced(f, priv); return err }
		}()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(signed)))
			b.ReportAllocs()
			for b.Loop() {
				unsign()
				if err := bc.sign(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
