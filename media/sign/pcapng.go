package sign

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"os"
)

// A pcapng file (raw media: the RTP of a codec that is not decoded, a fax's
// UDPTL, encrypted media) is signed with a last block of its own: a pcapng
// Custom Block of the documentation enterprise number 32473 (RFC 5612)
// holding "spsg", the format version, the public key and an Ed25519
// signature over every other byte of the file. Its type, 0x40000BAD, marks
// it not to be copied by editors: a signature does not hold in a changed
// file. Wireshark shows it as a "Custom Block" pseudo-frame; readers of
// packets skip it.
const (
	pcapngSHB       = 0x0a0d0d0a
	pcapngByteMagic = 0x1a2b3c4d
	customBlock     = 0x40000bad
	// PEN is the private enterprise number in the signature block.
	PEN = 32473
	// blockSize: type, length, PEN, "spsg", version, key, signature, length.
	blockSize     = 4 + 4 + 4 + 4 + 4 + ed25519.PublicKeySize + ed25519.SignatureSize + 4
	sigInBlock    = 4 + 4 + 4 + 4 + 4 + ed25519.PublicKeySize
	pcapngContext = "spanrec-pcapng-signature-v1\x00"
)

// format says which kind of file r holds from its first bytes.
type format int

const (
	formatUnknown format = iota
	formatWAV
	formatPcapng
)

func sniff(r io.ReaderAt) format {
	var b [4]byte
	if _, err := r.ReadAt(b[:], 0); err != nil {
		return formatUnknown
	}
	switch {
	case string(b[:]) == "RIFF":
		return formatWAV
	case binary.LittleEndian.Uint32(b[:]) == pcapngSHB:
		return formatPcapng
	}
	return formatUnknown
}

// byteOrder is the section's byte order; pcapng files may be either.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

type block struct {
	typ      uint32
	off, len int64 // offset and total length
}

// blocks lists the pcapng blocks of r up to size, checking that they tile
// the file exactly.
func blocks(r io.ReaderAt, size int64) (byteOrder, []block, error) {
	var h [12]byte
	if size < 28 {
		return nil, nil, fmt.Errorf("%w: not a pcapng file (only %d bytes)", ErrMalformed, size)
	}
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, nil, fmt.Errorf("read header: %w", err)
	}
	var bo byteOrder
	switch {
	case binary.LittleEndian.Uint32(h[8:]) == pcapngByteMagic:
		bo = binary.LittleEndian
	case binary.BigEndian.Uint32(h[8:]) == pcapngByteMagic:
		bo = binary.BigEndian
	default:
		return nil, nil, fmt.Errorf("%w: not a pcapng file", ErrMalformed)
	}
	var out []block
	for off := int64(0); off < size; {
		var bh [8]byte
		if off+12 > size {
			return nil, nil, fmt.Errorf("%w: a block at offset %d runs past the end of the file (truncated)", ErrMalformed, off)
		}
		if _, err := r.ReadAt(bh[:], off); err != nil {
			return nil, nil, fmt.Errorf("read block at %d: %w", off, err)
		}
		b := block{typ: bo.Uint32(bh[:]), off: off, len: int64(bo.Uint32(bh[4:]))}
		if b.len < 12 || b.len%4 != 0 || off+b.len > size {
			return nil, nil, fmt.Errorf("%w: block at offset %d has length %d (truncated or damaged)", ErrMalformed, off, b.len)
		}
		var tail [4]byte
		if _, err := r.ReadAt(tail[:], off+b.len-4); err != nil {
			return nil, nil, fmt.Errorf("read block at %d: %w", off, err)
		}
		if int64(bo.Uint32(tail[:])) != b.len {
			return nil, nil, fmt.Errorf("%w: block at offset %d: its two lengths differ", ErrMalformed, off)
		}
		out = append(out, b)
		off += b.len
	}
	if len(out) == 0 || out[0].typ != pcapngSHB {
		return nil, nil, fmt.Errorf("%w: no section header block", ErrMalformed)
	}
	return bo, out, nil
}

// isSignature reports whether block b of r is a signature block.
func isSignature(r io.ReaderAt, bo byteOrder, b block) bool {
	if b.typ != customBlock || b.len != blockSize {
		return false
	}
	var h [8]byte
	if _, err := r.ReadAt(h[:], b.off+8); err != nil {
		return false
	}
	return bo.Uint32(h[:]) == PEN && string(h[4:]) == ChunkID
}

// appendPcapng signs a complete pcapng file open for reading and writing;
// buf is the read-back buffer.
func appendPcapng(f *os.File, priv ed25519.PrivateKey, orig int64, buf []byte) (sum [32]byte, size int64, err error) {
	bo, bl, err := blocks(f, orig)
	if err != nil {
		return sum, 0, fmt.Errorf("sign: %s: %w", f.Name(), err)
	}
	for _, b := range bl {
		if isSignature(f, bo, b) {
			return sum, 0, fmt.Errorf("sign: %s: %w", f.Name(), ErrAlreadySigned)
		}
	}
	blk := make([]byte, 0, blockSize)
	blk = bo.AppendUint32(blk, customBlock)
	blk = bo.AppendUint32(blk, blockSize)
	blk = bo.AppendUint32(blk, PEN)
	blk = append(blk, ChunkID...)
	blk = append(blk, Version...)
	blk = append(blk, priv.Public().(ed25519.PublicKey)...)
	sigOff := orig + sigInBlock
	tail := bo.AppendUint32(nil, blockSize)
	if _, err := f.WriteAt(blk, orig); err != nil {
		return sum, 0, fmt.Errorf("sign: write signature block: %w", err)
	}
	if _, err := f.WriteAt(tail, sigOff+ed25519.SignatureSize); err != nil {
		return sum, 0, fmt.Errorf("sign: write signature block: %w", err)
	}
	size = orig + blockSize
	// The signed digest covers everything but the signature, which is
	// followed by the block's 4-byte trailing length; the whole file's
	// hash goes on from the state before it, so one read gives both.
	h := sha256.New()
	if err := hashRange(h, f, 0, sigOff, buf); err != nil {
		return sum, 0, fmt.Errorf("sign: read back %s: %w", f.Name(), err)
	}
	whole, err := clone(h)
	if err != nil {
		return sum, 0, fmt.Errorf("sign: %w", err)
	}
	h.Write(tail)
	sig := ed25519.Sign(priv, h.Sum([]byte(pcapngContext)))
	if _, err := f.WriteAt(sig, sigOff); err != nil {
		return sum, 0, fmt.Errorf("sign: write signature: %w", err)
	}
	whole.Write(sig)
	whole.Write(tail)
	whole.Sum(sum[:0])
	return sum, size, nil
}

// clone copies a SHA-256 state.
func clone(h hash.Hash) (hash.Hash, error) {
	st, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, err
	}
	c := sha256.New()
	if err := c.(encoding.BinaryUnmarshaler).UnmarshalBinary(st); err != nil {
		return nil, err
	}
	return c, nil
}

// locatePcapng finds the signature block, which must be the file's last.
func locatePcapng(r io.ReaderAt, size int64) (*located, error) {
	bo, bl, err := blocks(r, size)
	if err != nil {
		return nil, err
	}
	last := bl[len(bl)-1]
	if !isSignature(r, bo, last) {
		for _, b := range bl {
			if isSignature(r, bo, b) {
				return nil, fmt.Errorf("%w (%d bytes follow the signature block)", ErrNotLast, size-b.off-b.len)
			}
		}
		return nil, ErrNoSignature
	}
	body := make([]byte, 4+ed25519.PublicKeySize+ed25519.SignatureSize)
	if _, err := r.ReadAt(body, last.off+16); err != nil {
		return nil, fmt.Errorf("read signature block: %w", err)
	}
	if string(body[:4]) != Version {
		return nil, fmt.Errorf("%w: unknown signature format %q", ErrMalformed, body[:4])
	}
	return &located{off: last.off, pub: ed25519.PublicKey(body[4:36]), sig: body[36:]}, nil
}

func verifyPcapng(r io.ReaderAt, size int64, pub ed25519.PublicKey) error {
	l, err := locatePcapng(r, size)
	if err != nil {
		return err
	}
	if pub != nil && !bytes.Equal(pub, l.pub) {
		return fmt.Errorf("%w (file key %s, expected %s)", ErrKeyMismatch, fingerprint(l.pub), fingerprint(pub))
	}
	sigOff := l.off + sigInBlock
	h := sha256.New()
	buf := make([]byte, bufSize)
	if err := hashRange(h, r, 0, sigOff, buf); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if err := hashRange(h, r, sigOff+ed25519.SignatureSize, size, buf); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if !ed25519.Verify(l.pub, h.Sum([]byte(pcapngContext)), l.sig) {
		return ErrBadSignature
	}
	return nil
}
