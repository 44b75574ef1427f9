package sign

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
)

// Errors returned by Append and Verify. Their texts are meant for people:
// `spanrec verify` prints them.
var (
	// ErrNoSignature means the file has no signature chunk.
	ErrNoSignature = errors.New("no signature found: the file was never signed, or its end was cut off")
	// ErrNotLast means data follows the signature chunk.
	ErrNotLast = errors.New("data was added after the signature")
	// ErrKeyMismatch means the file was signed with a different key than the
	// one it is checked against.
	ErrKeyMismatch = errors.New("signed with a different key than expected")
	// ErrBadSignature means the signature does not match the content.
	ErrBadSignature = errors.New("signature does not match: the content was modified after signing")
	// ErrMalformed means the file is not a well-formed RIFF/WAVE or pcapng
	// file or the signature chunk is damaged.
	ErrMalformed = errors.New("malformed file")
	// ErrAlreadySigned means Append found a signature chunk already.
	ErrAlreadySigned = errors.New("file is already signed")
	// ErrKey means the private key passed to Append is unusable.
	ErrKey = errors.New("invalid Ed25519 private key")
)

const (
	// ChunkID is the RIFF chunk ID of the signature chunk.
	ChunkID = "spsg"
	// Version is the format version at the start of the chunk body.
	Version = "ED1\x00"
	// ChunkSize is the total size of the signature chunk including its
	// 8-byte header.
	ChunkSize = 8 + bodySize

	bodySize   = 4 + ed25519.PublicKeySize + ed25519.SignatureSize
	sigInChunk = 8 + 4 + ed25519.PublicKeySize // offset of the signature in the chunk
	context    = "spanrec-wav-signature-v1\x00"
	bufSize    = 256 << 10
)

// Append signs f, which must hold a complete RIFF/WAVE file (for example
// after wav.Writer.Finish) or a complete pcapng file (raw media), open for
// reading and writing. It appends the signature chunk or block, computes the
// digest by reading the file back, writes the signature and fsyncs. It
// returns the SHA-256 of the finished file and its size, for the index.
func Append(f *os.File, priv ed25519.PrivateKey) (sum [32]byte, size int64, err error) {
	var s Signer
	if sum, size, err = s.AppendUnsynced(f, priv); err != nil {
		return sum, 0, err
	}
	if err := f.Sync(); err != nil {
		return sum, 0, fmt.Errorf("sign: fsync: %w", err)
	}
	return sum, size, nil
}

// Signer signs files as Append does, reusing one read-back buffer from
// file to file. A Signer is not safe for concurrent use; its zero value is
// ready.
type Signer struct {
	buf []byte
}

// AppendUnsynced is Append without the fsync: the signed file reaches the
// operating system, and the caller makes it durable (one syncfs(2) for
// many files) before it relies on it, e.g. before indexing it.
func (s *Signer) AppendUnsynced(f *os.File, priv ed25519.PrivateKey) (sum [32]byte, size int64, err error) {
	if len(priv) != ed25519.PrivateKeySize {
		return sum, 0, fmt.Errorf("sign: %w: %d bytes", ErrKey, len(priv))
	}
	st, err := f.Stat()
	if err != nil {
		return sum, 0, fmt.Errorf("sign: %w", err)
	}
	if s.buf == nil {
		s.buf = make([]byte, bufSize)
	}
	switch sniff(f) {
	case formatWAV:
		return appendWAV(f, priv, st.Size(), s.buf)
	case formatPcapng:
		return appendPcapng(f, priv, st.Size(), s.buf)
	}
	return sum, 0, fmt.Errorf("sign: %s: %w: neither a RIFF/WAVE nor a pcapng file", f.Name(), ErrMalformed)
}

// appendWAV updates the RIFF size along with the chunk; buf is the
// read-back buffer.
func appendWAV(f *os.File, priv ed25519.PrivateKey, orig int64, buf []byte) (sum [32]byte, size int64, err error) {
	riff, chunks, err := walk(f, orig)
	if err != nil {
		return sum, 0, fmt.Errorf("sign: %s: %w", f.Name(), err)
	}
	if riff != orig-8 {
		return sum, 0, fmt.Errorf("sign: %s: %w: RIFF header announces %d bytes, file has %d", f.Name(), ErrMalformed, riff+8, orig)
	}
	for _, c := range chunks {
		if c.id == ChunkID {
			return sum, 0, fmt.Errorf("sign: %s: %w", f.Name(), ErrAlreadySigned)
		}
	}
	if chunks.end() != orig {
		return sum, 0, fmt.Errorf("sign: %s: %w: chunks end at %d, file at %d", f.Name(), ErrMalformed, chunks.end(), orig)
	}
	size = orig + ChunkSize
	if size-8 > math.MaxUint32 {
		return sum, 0, fmt.Errorf("sign: %s: %w: file too large for RIFF", f.Name(), ErrMalformed)
	}

	head := make([]byte, 0, sigInChunk)
	head = append(head, ChunkID...)
	head = binary.LittleEndian.AppendUint32(head, bodySize)
	head = append(head, Version...)
	head = append(head, priv.Public().(ed25519.PublicKey)...)
	if _, err := f.WriteAt(head, orig); err != nil {
		return sum, 0, fmt.Errorf("sign: write signature chunk: %w", err)
	}
	var rs [4]byte
	binary.LittleEndian.PutUint32(rs[:], uint32(size-8))
	if _, err := f.WriteAt(rs[:], 4); err != nil {
		return sum, 0, fmt.Errorf("sign: update RIFF size: %w", err)
	}

	// The signature is the file's last 64 bytes, so the signed digest is
	// the hash of everything before it, and the whole file's hash goes on
	// from that state: one pass over the file gives both.
	sigOff := orig + sigInChunk
	h := sha256.New()
	if err := hashRange(h, f, 0, sigOff, buf); err != nil {
		return sum, 0, fmt.Errorf("sign: read back %s: %w", f.Name(), err)
	}
	sig := ed25519.Sign(priv, message(h))
	if _, err := f.WriteAt(sig, sigOff); err != nil {
		return sum, 0, fmt.Errorf("sign: write signature: %w", err)
	}
	h.Write(sig)
	h.Sum(sum[:0])
	return sum, size, nil
}

func message(digest hash.Hash) []byte {
	return digest.Sum([]byte(context))
}

// hashRange streams r[off:end] into w.
func hashRange(w io.Writer, r io.ReaderAt, off, end int64, buf []byte) error {
	for off < end {
		b := buf[:min(int64(len(buf)), end-off)]
		n, err := r.ReadAt(b, off)
		if n < len(b) {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		w.Write(b)
		off += int64(n)
	}
	return nil
}

type chunk struct {
	id       string
	off, len int64 // header offset, body length
}

type chunkList []chunk

// end returns the offset after the last chunk including its pad byte.
func (l chunkList) end() int64 {
	if len(l) == 0 {
		return 12
	}
	c := l[len(l)-1]
	return c.off + 8 + c.len + c.len&1
}

// walk checks the RIFF/WAVE header and lists the chunks up to size, stopping
// after a signature chunk. It returns the RIFF size field.
func walk(r io.ReaderAt, size int64) (riff int64, chunks chunkList, err error) {
	var h [12]byte
	if size < 12 {
		return 0, nil, fmt.Errorf("%w: not a RIFF/WAVE file (only %d bytes)", ErrMalformed, size)
	}
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return 0, nil, fmt.Errorf("read header: %w", err)
	}
	if string(h[:4]) != "RIFF" || string(h[8:]) != "WAVE" {
		return 0, nil, fmt.Errorf("%w: not a RIFF/WAVE file", ErrMalformed)
	}
	riff = int64(binary.LittleEndian.Uint32(h[4:]))
	for off := int64(12); off+8 <= size; {
		var ch [8]byte
		if _, err := r.ReadAt(ch[:], off); err != nil {
			return 0, nil, fmt.Errorf("read chunk header at %d: %w", off, err)
		}
		c := chunk{id: string(ch[:4]), off: off, len: int64(binary.LittleEndian.Uint32(ch[4:]))}
		if c.id != ChunkID && off+8+c.len > size {
			return 0, nil, fmt.Errorf("%w: chunk %q at offset %d runs past the end of the file (truncated or damaged)", ErrMalformed, c.id, off)
		}
		chunks = append(chunks, c)
		if c.id == ChunkID {
			break
		}
		off += 8 + c.len + c.len&1
	}
	return riff, chunks, nil
}

// located is a parsed signature chunk.
type located struct {
	off int64 // chunk header offset
	pub ed25519.PublicKey
	sig []byte
}

func locate(r io.ReaderAt, size int64) (*located, error) {
	_, chunks, err := walk(r, size)
	if err != nil {
		return nil, err
	}
	if len(chunks) == 0 || chunks[len(chunks)-1].id != ChunkID {
		return nil, ErrNoSignature
	}
	c := chunks[len(chunks)-1]
	if c.len != bodySize {
		return nil, fmt.Errorf("%w: signature chunk has %d bytes, want %d", ErrMalformed, c.len, bodySize)
	}
	if end := c.off + ChunkSize; end > size {
		return nil, fmt.Errorf("%w: signature chunk cut off (file truncated)", ErrMalformed)
	} else if end < size {
		return nil, fmt.Errorf("%w (%d bytes follow the signature chunk)", ErrNotLast, size-end)
	}
	body := make([]byte, bodySize)
	if _, err := r.ReadAt(body, c.off+8); err != nil {
		return nil, fmt.Errorf("read signature chunk: %w", err)
	}
	if string(body[:4]) != Version {
		return nil, fmt.Errorf("%w: unknown signature format %q", ErrMalformed, body[:4])
	}
	return &located{off: c.off, pub: ed25519.PublicKey(body[4:36]), sig: body[36:]}, nil
}

// EmbeddedKey returns the public key stored in the file's signature chunk
// without checking the signature. Callers of Verify with a nil key should
// show it (e.g. its fingerprint) so a person can judge whether to trust it.
func EmbeddedKey(r io.ReaderAt, size int64) (ed25519.PublicKey, error) {
	var l *located
	var err error
	switch sniff(r) {
	case formatWAV:
		l, err = locate(r, size)
	case formatPcapng:
		l, err = locatePcapng(r, size)
	default:
		err = errUnknownFormat
	}
	if err != nil {
		return nil, err
	}
	return l.pub, nil
}

func fingerprint(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:8])
}

var errUnknownFormat = fmt.Errorf("%w: neither a RIFF/WAVE nor a pcapng file", ErrMalformed)

// Verify checks the signature of the WAV or pcapng file read from r (size
// bytes). If
// pub is not nil the file must have been signed with it (ErrKeyMismatch
// otherwise). If pub is nil the key embedded in the file is used: that only
// proves the file is unmodified since whoever holds that key signed it, so
// callers should report the key (see EmbeddedKey). Errors wrap ErrNoSignature,
// ErrNotLast, ErrKeyMismatch, ErrBadSignature or ErrMalformed.
func Verify(r io.ReaderAt, size int64, pub ed25519.PublicKey) error {
	if pub != nil && len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: public key has %d bytes", ErrKey, len(pub))
	}
	switch sniff(r) {
	case formatWAV:
		return verifyWAV(r, size, pub)
	case formatPcapng:
		return verifyPcapng(r, size, pub)
	}
	return errUnknownFormat
}

func verifyWAV(r io.ReaderAt, size int64, pub ed25519.PublicKey) error {
	l, err := locate(r, size)
	if err != nil {
		return err
	}
	if pub != nil && !bytes.Equal(pub, l.pub) {
		return fmt.Errorf("%w (file key %s, expected %s)", ErrKeyMismatch, fingerprint(l.pub), fingerprint(pub))
	}
	sigOff := l.off + sigInChunk
	d := sha256.New()
	buf := make([]byte, bufSize)
	if err := hashRange(d, r, 0, sigOff, buf); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if err := hashRange(d, r, sigOff+ed25519.SignatureSize, size, buf); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if !ed25519.Verify(l.pub, message(d), l.sig) {
		return ErrBadSignature
	}
	// The RIFF size is covered by the signature, so this only rejects files
	// signed by something other than Append.
	var rs [4]byte
	if _, err := r.ReadAt(rs[:], 4); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if int64(binary.LittleEndian.Uint32(rs[:])) != size-8 {
		return fmt.Errorf("%w: RIFF size does not match the file size", ErrMalformed)
	}
	return nil
}

// VerifyFile is Verify for the file at path.
func VerifyFile(path string, pub ed25519.PublicKey) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := Verify(f, st.Size(), pub); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// FileSHA256 returns the SHA-256 and size of the file at path.
func FileSHA256(path string) ([32]byte, int64, error) {
	var sum [32]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, f, make([]byte, bufSize))
	if err != nil {
		return sum, 0, fmt.Errorf("sign: hash %s: %w", path, err)
	}
	h.Sum(sum[:0])
	return sum, n, nil
}
