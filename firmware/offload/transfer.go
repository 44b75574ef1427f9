package offload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
)

// copyBufSize is the read size of copies and verifications.
const copyBufSize = 256 << 10

// remoteErr wraps a target error with ErrRemote and context.
func remoteErr(op, name string, err error) error {
	return fmt.Errorf("%w: %s %s: %w", ErrRemote, op, name, err)
}

// offloadItem copies, verifies and marks one recording. skipped tells that
// the target already held a verified copy; resumed that a partial copy was
// continued.
func (o *Offloader) offloadItem(ctx context.Context, t Target, it Item) (skipped, resumed bool, err error) {
	if err := it.Validate(); err != nil {
		return false, false, fmt.Errorf("%w: %w", ErrLocal, err)
	}
	final := it.File
	if err := t.MkdirAll(ctx, path.Dir(final)); err != nil {
		return false, false, remoteErr("mkdir", path.Dir(final), err)
	}
	present, err := o.verifyRemote(ctx, t, final, it.Size, it.SHA256)
	if err != nil && !errors.Is(err, ErrVerify) {
		return false, false, err
	}
	if present {
		skipped = true
	} else {
		if err != nil {
			o.log.Warn("offload: target holds a different file; replacing it", "id", it.ID, "name", final, "err", err)
		}
		resumed, err = o.copyRecording(ctx, t, it)
		if err != nil {
			return false, resumed, err
		}
	}

	manifest, err := o.src.Manifest(ctx, it)
	if err != nil {
		return skipped, resumed, fmt.Errorf("%w: manifest of %s: %w", ErrLocal, it.ID, err)
	}
	if err := o.putSmall(ctx, t, it.ManifestName(), manifest); err != nil {
		return skipped, resumed, err
	}
	remote := o.RemoteURL(final)
	if err := o.src.MarkOffloaded(ctx, it.ID, remote, o.now()); err != nil {
		return skipped, resumed, fmt.Errorf("%w: mark %s offloaded: %w", ErrLocal, it.ID, err)
	}
	o.log.Info("offloaded", "id", it.ID, "remote", remote, "size", it.Size, "already_present", skipped, "resumed", resumed)
	if o.cfg.DeleteAfterOffload {
		if err := o.src.DeleteLocal(ctx, it); err != nil {
			return skipped, resumed, fmt.Errorf("%w: delete local %s: %w", ErrLocal, it.ID, err)
		}
	}
	return skipped, resumed, nil
}

// copyRecording writes the recording to its temporary name (continuing a
// partial copy whose prefix matches), verifies the read-back and renames
// it into place.
func (o *Offloader) copyRecording(ctx context.Context, t Target, it Item) (resumed bool, err error) {
	if ot, ok := t.(ObjectTarget); ok {
		return o.putRecording(ctx, ot, it)
	}
	tmp := tempName(it.File)
	src, err := o.src.Open(ctx, it)
	if err != nil {
		return false, fmt.Errorf("%w: open %s: %w", ErrLocal, it.File, err)
	}
	defer func() {
		if src != nil {
			src.Close()
		}
	}()

	h := sha256.New()
	var offset int64
	size, exists, err := t.Stat(ctx, tmp)
	if err != nil {
		return false, remoteErr("stat", tmp, err)
	}
	if exists && size > 0 && size <= it.Size {
		ok, err := o.prefixMatches(ctx, t, tmp, size, src, h)
		if err != nil {
			return false, err
		}
		if ok {
			offset = size
			resumed = true
			o.log.Info("offload: resuming partial copy", "id", it.ID, "offset", offset)
		} else {
			src.Close()
			if src, err = o.src.Open(ctx, it); err != nil {
				return false, fmt.Errorf("%w: open %s: %w", ErrLocal, it.File, err)
			}
			h.Reset()
		}
	}

	w, err := t.OpenWrite(ctx, tmp, offset)
	if err != nil {
		return resumed, remoteErr("create", tmp, err)
	}
	n, cerr := o.copyLimited(ctx, w, tmp, io.TeeReader(src, h))
	werr := w.Close()
	if cerr != nil {
		return resumed, cerr
	}
	if werr != nil {
		return resumed, remoteErr("close", tmp, werr)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != it.SHA256 || offset+n != it.Size {
		// The local file is not what the index says: never offload it,
		// and leave nothing behind on the target.
		if err := t.Remove(ctx, tmp); err != nil {
			o.log.Warn("offload: cannot remove temporary file", "name", tmp, "err", err)
		}
		return resumed, fmt.Errorf("%w: %s: %s has %d bytes, sha256 %s; index says %d bytes, sha256 %s",
			ErrLocalMismatch, it.ID, it.File, offset+n, got, it.Size, it.SHA256)
	}
	if err := o.finishTemp(ctx, t, tmp, it.File, it.Size, it.SHA256); err != nil {
		return resumed, err
	}
	return resumed, nil
}

// finishTemp verifies tmp against size and sum and renames it to final; a
// temporary file that fails verification is removed.
func (o *Offloader) finishTemp(ctx context.Context, t Target, tmp, final string, size int64, sum string) error {
	ok, err := o.verifyRemote(ctx, t, tmp, size, sum)
	if !ok {
		if err == nil {
			err = fmt.Errorf("%w: %s vanished after writing", ErrVerify, tmp)
		}
		if errors.Is(err, ErrVerify) {
			if rerr := t.Remove(ctx, tmp); rerr != nil {
				o.log.Warn("offload: cannot remove temporary file", "name", tmp, "err", rerr)
			}
		}
		return err
	}
	if err := t.Rename(ctx, tmp, final); err != nil {
		return remoteErr("rename", tmp+" to "+final, err)
	}
	return nil
}

// verifyRemote reports whether name exists on the target with the given
// size and SHA-256. A file that exists but differs gives false and an
// error wrapping ErrVerify; a missing one false and nil.
func (o *Offloader) verifyRemote(ctx context.Context, t Target, name string, size int64, sum string) (bool, error) {
	got, exists, err := t.Stat(ctx, name)
	if err != nil {
		return false, remoteErr("stat", name, err)
	}
	if !exists {
		return false, nil
	}
	if got != size {
		return false, fmt.Errorf("%w: %s has %d bytes, want %d", ErrVerify, name, got, size)
	}
	r, err := t.Open(ctx, name)
	if err != nil {
		return false, remoteErr("open", name, err)
	}
	defer r.Close()
	h := sha256.New()
	n, err := copyCtx(ctx, h, r)
	if err != nil {
		return false, remoteErr("read back", name, err)
	}
	if s := hex.EncodeToString(h.Sum(nil)); n != size || s != sum {
		return false, fmt.Errorf("%w: %s read back %d bytes, sha256 %s; want %d bytes, sha256 %s", ErrVerify, name, n, s, size, sum)
	}
	return true, nil
}

// prefixMatches hashes the first n bytes of the remote file name and of
// src (feeding them to h as well) and compares them.
func (o *Offloader) prefixMatches(ctx context.Context, t Target, name string, n int64, src io.Reader, h hash.Hash) (bool, error) {
	lh := sha256.New()
	m, err := copyCtx(ctx, io.MultiWriter(h, lh), io.LimitReader(src, n))
	if err != nil {
		return false, fmt.Errorf("%w: read local: %w", ErrLocal, err)
	}
	if m != n {
		return false, nil
	}
	r, err := t.Open(ctx, name)
	if err != nil {
		return false, remoteErr("open", name, err)
	}
	defer r.Close()
	rh := sha256.New()
	m, err = copyCtx(ctx, rh, io.LimitReader(r, n))
	if err != nil {
		return false, remoteErr("read back", name, err)
	}
	return m == n && bytes.Equal(lh.Sum(nil), rh.Sum(nil)), nil
}

// copyLimited copies src to the remote writer w under the bandwidth cap,
// counting written bytes in the run's total. Read errors are local, write
// errors remote.
func (o *Offloader) copyLimited(ctx context.Context, w io.Writer, name string, src io.Reader) (int64, error) {
	lim := newLimiter(o.cfg.BandwidthBytesPerSec, o.now)
	buf := make([]byte, copyBufSize)
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, rerr := src.Read(buf)
		for p := buf[:n]; len(p) > 0; {
			c := p
			if lim != nil {
				c = p[:min(len(p), lim.chunk())]
				if err := lim.wait(ctx, len(c)); err != nil {
					return total, err
				}
			}
			m, err := w.Write(c)
			total += int64(m)
			o.runBytes.Add(int64(m))
			if err != nil {
				return total, remoteErr("write", name, err)
			}
			if m != len(c) {
				return total, remoteErr("write", name, io.ErrShortWrite)
			}
			p = p[m:]
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, fmt.Errorf("%w: read: %w", ErrLocal, rerr)
		}
	}
}

// copyCtx is io.Copy that stops when ctx ends.
func copyCtx(ctx context.Context, w io.Writer, r io.Reader) (int64, error) {
	buf := make([]byte, copyBufSize)
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, rerr := r.Read(buf)
		if n > 0 {
			m, err := w.Write(buf[:n])
			total += int64(m)
			if err != nil {
				return total, err
			}
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// putSmall writes a small file (manifest, public key) to name with the
// same temporary-name, verify, rename sequence, unless name already holds
// exactly data.
func (o *Offloader) putSmall(ctx context.Context, t Target, name string, data []byte) error {
	sum := sha256.Sum256(data)
	hexSum := hex.EncodeToString(sum[:])
	ok, err := o.verifyRemote(ctx, t, name, int64(len(data)), hexSum)
	if ok {
		return nil
	}
	if err != nil && !errors.Is(err, ErrVerify) {
		return err
	}
	if ot, ok := t.(ObjectTarget); ok {
		if _, err := ot.Put(ctx, name, bytes.NewReader(data), int64(len(data)), hexSum, o.sender(ctx)); err != nil {
			return remoteErr("put", name, err)
		}
		return o.checkPut(ctx, t, name, int64(len(data)), hexSum)
	}
	tmp := tempName(name)
	w, err := t.OpenWrite(ctx, tmp, 0)
	if err != nil {
		return remoteErr("create", tmp, err)
	}
	_, cerr := o.copyLimited(ctx, w, tmp, bytes.NewReader(data))
	werr := w.Close()
	if cerr != nil {
		return cerr
	}
	if werr != nil {
		return remoteErr("close", tmp, werr)
	}
	return o.finishTemp(ctx, t, tmp, name, int64(len(data)), hexSum)
}

// putPublicKey makes sure the target holds the appliance's public key. A
// different key already there (the key was regenerated) is kept as
// spanrec-<first 12 hex digits of its SHA-256>.pub, so recordings signed
// with it stay verifiable.
func (o *Offloader) putPublicKey(ctx context.Context, t Target) error {
	pub, err := o.src.PublicKey(ctx)
	if err != nil {
		return fmt.Errorf("%w: public key: %w", ErrLocal, err)
	}
	sum := sha256.Sum256(pub)
	ok, err := o.verifyRemote(ctx, t, PublicKeyName, int64(len(pub)), hex.EncodeToString(sum[:]))
	if ok {
		return nil
	}
	if err != nil && !errors.Is(err, ErrVerify) {
		return err
	}
	if err != nil { // a different key: keep it under its own name
		r, oerr := t.Open(ctx, PublicKeyName)
		if oerr != nil {
			return remoteErr("open", PublicKeyName, oerr)
		}
		var old bytes.Buffer
		_, rerr := copyCtx(ctx, &old, io.LimitReader(r, maxSecretFile))
		r.Close()
		if rerr != nil {
			return remoteErr("read", PublicKeyName, rerr)
		}
		oldSum := sha256.Sum256(old.Bytes())
		keep := "spanrec-" + hex.EncodeToString(oldSum[:6]) + ".pub"
		if err := o.putSmall(ctx, t, keep, old.Bytes()); err != nil {
			return err
		}
		o.log.Warn("offload: target held another public key; kept it", "name", keep)
	}
	return o.putSmall(ctx, t, PublicKeyName, pub)
}

// writeAnchor writes the anchor name (from as.Anchor) to the target,
// verified, and tells as; it returns the name written ("" for none).
func (o *Offloader) writeAnchor(ctx context.Context, t Target, as AnchorSource, name string, data []byte) (string, error) {
	if name == "" {
		return "", nil
	}
	clean, err := cleanRemote(name, false)
	if err != nil || clean != name {
		return "", fmt.Errorf("%w: anchor name %q", ErrLocal, name)
	}
	if err := t.MkdirAll(ctx, path.Dir(name)); err != nil {
		return "", remoteErr("mkdir", path.Dir(name), err)
	}
	if err := o.putSmall(ctx, t, name, data); err != nil {
		return "", err
	}
	remote := o.RemoteURL(name)
	if err := as.AnchorWritten(ctx, name, remote, o.now()); err != nil {
		return "", fmt.Errorf("%w: anchor %s written, not recorded: %w", ErrLocal, name, err)
	}
	o.log.Info("chain head anchored", "remote", remote)
	return name, nil
}

// putRecording stores the recording on an object target with one Put
// that the store checks against the index entry's SHA-256, then reads it
// back. A refused checksum whose cause is the local file (it differs
// from its index entry) is ErrLocalMismatch; the store keeps nothing.
func (o *Offloader) putRecording(ctx context.Context, t ObjectTarget, it Item) (bool, error) {
	src, err := o.src.Open(ctx, it)
	if err != nil {
		return false, fmt.Errorf("%w: open %s: %w", ErrLocal, it.File, err)
	}
	defer src.Close()
	resumed, err := t.Put(ctx, it.File, localReader{src}, it.Size, it.SHA256, o.sender(ctx))
	if resumed {
		o.log.Info("offload: continued an interrupted upload", "id", it.ID)
	}
	if err != nil {
		if errors.Is(err, ErrChecksum) {
			if lerr := o.localMatches(ctx, it); lerr != nil {
				return resumed, lerr
			}
			return resumed, fmt.Errorf("%w: %s: %w", ErrVerify, it.File, err)
		}
		if errors.Is(err, ErrLocal) || ctx.Err() != nil {
			return resumed, err
		}
		return resumed, remoteErr("put", it.File, err)
	}
	return resumed, o.checkPut(ctx, t, it.File, it.Size, it.SHA256)
}

// checkPut reads back what Put stored, as every target's copy is.
func (o *Offloader) checkPut(ctx context.Context, t Target, name string, size int64, sum string) error {
	ok, err := o.verifyRemote(ctx, t, name, size, sum)
	if !ok && err == nil {
		err = fmt.Errorf("%w: %s missing after writing", ErrVerify, name)
	}
	return err
}

// localMatches hashes the local recording: nil when it is what its index
// entry says, an error wrapping ErrLocalMismatch (or ErrLocal) otherwise.
func (o *Offloader) localMatches(ctx context.Context, it Item) error {
	f, err := o.src.Open(ctx, it)
	if err != nil {
		return fmt.Errorf("%w: open %s: %w", ErrLocal, it.File, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := copyCtx(ctx, h, f)
	if err != nil {
		return fmt.Errorf("%w: read %s: %w", ErrLocal, it.File, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != it.SHA256 || n != it.Size {
		return fmt.Errorf("%w: %s: %s has %d bytes, sha256 %s; index says %d bytes, sha256 %s",
			ErrLocalMismatch, it.ID, it.File, n, got, it.Size, it.SHA256)
	}
	return nil
}

// localReader marks read errors of a local file with ErrLocal.
type localReader struct{ r io.Reader }

// Read implements io.Reader.
func (l localReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if err != nil && err != io.EOF && !errors.Is(err, ErrLocal) {
		err = fmt.Errorf("%w: read: %w", ErrLocal, err)
	}
	return n, err
}

// sender is ObjectTarget.Put's send: it wraps a body under the bandwidth
// cap (one limiter for the whole Put), counting what is sent in the run's
// total and stopping when ctx ends.
func (o *Offloader) sender(ctx context.Context) func(io.Reader) io.Reader {
	lim := newLimiter(o.cfg.BandwidthBytesPerSec, o.now)
	return func(r io.Reader) io.Reader { return &capReader{ctx: ctx, r: r, lim: lim, o: o} }
}

// capReader is a body sent under the cap.
type capReader struct {
	ctx context.Context
	r   io.Reader
	lim *limiter
	o   *Offloader
}

// Read implements io.Reader.
func (c *capReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if c.lim != nil {
		p = p[:min(len(p), c.lim.chunk())]
	}
	n, err := c.r.Read(p)
	if n > 0 {
		c.o.runBytes.Add(int64(n))
		if c.lim != nil {
			if werr := c.lim.wait(c.ctx, n); werr != nil {
				return n, werr
			}
		}
	}
	return n, err
}
