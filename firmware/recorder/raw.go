package recorder

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"spanrec/firmware/calls"
	"spanrec/firmware/capture"
	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/firmware/rawmedia"
	"spanrec/firmware/sipflow"
	"spanrec/media/sign"
	"spanrec/media/wav"
)

// rawFile is a recording's raw media: the packets that are not audio the
// recorder can place (a codec it does not decode, a fax's UDPTL,
// encryption it cannot read), with the call's SIP, in a signed pcapng file
// of its own index entry.
type rawFile struct {
	w      *rawmedia.Writer
	rel    string
	failed bool
	sip    int      // how many of the call's SIP messages are written
	what   []string // what was kept: codec names, "T38", ...
}

// keepRaw writes a datagram as captured to the call's raw media file,
// noting what it carried.
func (r *Recorder) keepRaw(c *calls.Call, rec *recording, p *capture.Packet, what string) {
	r.keepRawAt(c, rec, p.Time, p.Src, p.Dst, p.Payload, what)
}

func (r *Recorder) keepRawAt(c *calls.Call, rec *recording, at time.Time, src, dst netip.AddrPort, payload []byte, what string) {
	if rec.raw.failed || rec.paused && what != "T38" {
		return // a pause keeps speech out of the raw file too
	}
	if rec.raw.w == nil && !r.openRaw(c, rec) {
		return
	}
	if len(rec.raw.what) == 0 || rec.raw.what[len(rec.raw.what)-1] != what {
		rec.raw.what = appendFlag(rec.raw.what, what)
	}
	if rec.raw.sip < len(c.SIP) {
		r.rawSignalling(c, rec) // a re-INVITE before this packet
	}
	if err := rec.raw.w.Datagram(at, src, dst, payload); err != nil {
		r.rawFailed(rec, err)
	}
}

// openRaw creates the raw media file and writes the call's SIP so far.
func (r *Recorder) openRaw(c *calls.Call, rec *recording) bool {
	if !r.fileRoom(c) {
		r.rawFailed(rec, ErrFileBudget)
		return false
	}
	day := rec.origin.UTC()
	rec.raw.rel = datadir.RecordingName(day, rec.id, rawmedia.Ext)
	abs := datadir.Layout(r.cfg.DataDir).Abs(rec.raw.rel)
	if err := mkdirRecordings(abs); err != nil {
		r.rawFailed(rec, err)
		return false
	}
	comment := fmt.Sprintf("spanrec raw media of call %s (Call-ID %s), from %s to %s: the media that is not in the call's WAV, with its SIP (SDES keys blanked)",
		rec.id, c.CallID, wav.Printable(c.Caller.User), wav.Printable(c.Callee.User))
	w, err := rawmedia.Create(abs, comment, r.cfg.Software)
	if err != nil {
		r.rawFailed(rec, err)
		return false
	}
	rec.raw.w = w
	r.open[c] = struct{}{}
	r.rawSignalling(c, rec)
	r.putInProgress(c, rec)
	return true
}

// rawSignalling writes the call's SIP messages not yet in the raw file.
func (r *Recorder) rawSignalling(c *calls.Call, rec *recording) {
	for ; rec.raw.sip < len(c.SIP); rec.raw.sip++ {
		m := &c.SIP[rec.raw.sip]
		msg := sipflow.Redact(m.Raw, rec.decrypted())
		if err := rec.raw.w.Signalling(m.Time, m.Src, m.Dst, msg, m.Transport == capture.TCP); err != nil {
			r.rawFailed(rec, err)
			return
		}
	}
}

func (r *Recorder) rawFailed(rec *recording, err error) {
	if !rec.raw.failed {
		rec.raw.failed = true
		r.log.Error("cannot keep raw media", "id", rec.id, "err", err)
	}
}

// flushRaw writes the raw file's buffer out; the periodic filesystem sync
// makes it durable.
func (r *Recorder) flushRaw(c *calls.Call, rec *recording) {
	if rec.raw.w == nil || rec.raw.failed {
		return
	}
	r.rawSignalling(c, rec)
	if err := rec.raw.w.Finish(); err != nil {
		r.rawFailed(rec, err)
		return
	}
	select {
	case r.syncReq <- struct{}{}:
	default:
	}
}

// rawEntry makes the index entry of the raw media file from the call's
// entry.
func rawEntry(e *index.Call, rec *recording) *index.Call {
	raw := *e
	raw.Media = index.MediaRaw
	raw.File = rec.raw.rel
	raw.Codec = strings.Join(rec.raw.what, ",")
	raw.SampleRate = 0
	raw.Flags = append([]string(nil), e.Flags...)
	raw.Pauses = append([]index.Pause(nil), e.Pauses...)
	return &raw
}

// finishRawFile (on a finisher) finishes and signs a raw file, without an
// fsync, as finishWAVFile does a WAV.
func (r *Recorder) finishRawFile(s *sign.Signer, w *rawmedia.Writer, entry *index.Call, failed bool) *finishedFile {
	err := fmt.Errorf("raw media: write failed earlier")
	if !failed {
		err = r.finishRaw(s, w, entry)
	}
	if err != nil {
		_ = w.Close()
		entry.Incomplete = true
		r.markFailed(entry, err)
		return &finishedFile{entry: entry, failed: true}
	}
	return &finishedFile{entry: entry}
}

func (r *Recorder) finishRaw(s *sign.Signer, w *rawmedia.Writer, entry *index.Call) error {
	if err := w.Finish(); err != nil {
		return err
	}
	sum, size, err := s.AppendUnsynced(w.File(), r.cfg.Key)
	if err != nil {
		return fmt.Errorf("sign raw media: %w", err)
	}
	if err := w.CloseUnsynced(); err != nil {
		return fmt.Errorf("close raw media: %w", err)
	}
	entry.Recorded = true
	entry.SHA256 = hex.EncodeToString(sum[:])
	entry.Size = size
	return nil
}
