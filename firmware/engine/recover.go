package engine

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/firmware/rawmedia"
	"spanrec/firmware/recorder"
	"spanrec/media/sign"
	"spanrec/media/wav"
)

// RecoveryReport says what start-up recovery found.
type RecoveryReport struct {
	Repaired []string // IDs of recordings finished, signed and indexed as incomplete
	Lost     []string // IDs whose file was gone (indexed as not recorded)
	Failed   []string // files that could not be repaired (left in place)
}

// Recover finishes the recordings a crash or power cut interrupted: every
// index entry still marked in progress, and every recording file that is
// neither signed nor in the index. Each is cut to its last flushed frame,
// given its metadata, signed and indexed as incomplete.
func (e *Engine) Recover() (RecoveryReport, error) {
	var rep RecoveryReport
	var pending []*index.Call
	known := map[string]bool{}
	err := e.Index.List(func(c *index.Call) error {
		if c.File != "" {
			known[c.File] = true
		}
		if c.EndReason == recorder.InProgress || failedWrite(c) {
			pending = append(pending, c)
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	for _, c := range pending {
		for _, f := range splitInProgress(c) {
			e.recoverFile(f, &rep)
		}
	}
	// Files with no index entry at all (a crash between creating the file
	// and indexing it).
	root := datadir.Layout(e.opts.DataDir).Recordings()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".wav") && !strings.HasSuffix(p, rawmedia.Ext) {
			return nil
		}
		rel, err := filepath.Rel(e.opts.DataDir, p)
		if err != nil || known[filepath.ToSlash(rel)] {
			return nil
		}
		if sign.VerifyFile(p, nil) == nil {
			return nil // signed but unknown: verify --all reports it
		}
		info, _ := d.Info()
		c := &index.Call{
			ID:    strings.TrimSuffix(strings.TrimSuffix(path.Base(filepath.ToSlash(rel)), ".wav"), rawmedia.Ext),
			File:  filepath.ToSlash(rel),
			Flags: []string{"recovered-without-index-entry"},
		}
		if strings.HasSuffix(p, rawmedia.Ext) {
			c.Media = index.MediaRaw
			if strings.HasSuffix(c.ID, "-raw") {
				c.RawOf = strings.TrimSuffix(c.ID, "-raw")
			}
		}
		if info != nil {
			c.Start = info.ModTime().UTC()
			c.Answer = c.Start
		}
		if err := e.repair(p, c); err != nil {
			e.log.Error("cannot repair recording", "file", rel, "err", err)
			rep.Failed = append(rep.Failed, c.File)
			return nil
		}
		rep.Repaired = append(rep.Repaired, c.ID)
		return nil
	})
	if len(rep.Repaired)+len(rep.Lost)+len(rep.Failed) > 0 {
		e.log.Warn("recovered interrupted recordings", "repaired", len(rep.Repaired), "lost", len(rep.Lost), "failed", len(rep.Failed))
	}
	return rep, err
}

// splitInProgress turns the entry of a call interrupted while recording
// into the entries of its files: the WAV (File) and the raw media
// (RawRTP), which is the call's entry itself when there is no WAV.
func splitInProgress(c *index.Call) []*index.Call {
	if c.EndReason != recorder.InProgress || c.RawRTP == "" || c.Raw() {
		return []*index.Call{c}
	}
	raw := *c
	raw.Media, raw.File, raw.RawRTP = index.MediaRaw, c.RawRTP, ""
	if c.File == "" {
		return []*index.Call{&raw}
	}
	raw.ID, raw.RawOf = c.ID+"-raw", c.ID
	c.RawID = raw.ID
	return []*index.Call{c, &raw}
}

// recoverFile finishes one interrupted file, or indexes it as lost.
func (e *Engine) recoverFile(c *index.Call, rep *RecoveryReport) {
	abs := datadir.Layout(e.opts.DataDir).Abs(c.File)
	if _, err := os.Stat(abs); errors.Is(err, fs.ErrNotExist) {
		if failedWrite(c) {
			return // nothing was kept; the entry already says why
		}
		c.EndReason = "power-loss"
		c.Reason = "recording lost: its file was missing after a restart"
		c.Incomplete = true
		if err := e.Index.Put(c); err != nil {
			e.log.Error("cannot index lost recording", "id", c.ID, "err", err)
			rep.Failed = append(rep.Failed, c.File)
			return
		}
		rep.Lost = append(rep.Lost, c.ID)
		return
	}
	if err := e.repair(abs, c); err != nil {
		e.log.Error("cannot repair recording", "id", c.ID, "file", c.File, "err", err)
		rep.Failed = append(rep.Failed, c.File)
		return
	}
	rep.Repaired = append(rep.Repaired, c.ID)
}

// failedWrite reports whether c's recording stopped on a write error (a
// full disk): its partial file is finished and signed once space is back.
func failedWrite(c *index.Call) bool {
	return !c.Recorded && c.Incomplete && c.File != "" && c.SHA256 == "" && strings.HasPrefix(c.Reason, "recording failed")
}

// repair finishes, signs and indexes one interrupted recording.
func (e *Engine) repair(abs string, c *index.Call) error {
	if strings.HasSuffix(abs, rawmedia.Ext) {
		return e.repairRaw(abs, c)
	}
	w, err := wav.Reopen(abs, 0)
	if err != nil {
		return err
	}
	defer w.Close()
	dur := time.Duration(w.Frames()) * time.Second / time.Duration(w.Format().SampleRate)
	if !c.Answer.IsZero() && c.Start.IsZero() {
		c.Start = c.Answer
	}
	if c.Answer.IsZero() {
		c.Answer = c.Start
	}
	c.End = c.Answer.Add(dur)
	c.DurationS = dur.Seconds()
	interrupted(c)
	tags := []wav.InfoTag{
		{ID: "INAM", Value: wav.Printable(fmt.Sprintf("Call %s -> %s (incomplete)", c.Caller, c.Callee))},
		{ID: "ISFT", Value: wav.Printable(e.opts.Recorder.Software)},
		{ID: "ICMT", Value: wav.Printable(fmt.Sprintf("id=%s; call-id=%s; incomplete: recovered after a restart; answer=%s; duration=%.3fs",
			c.ID, c.CallID, c.Answer.Format(time.RFC3339Nano), c.DurationS))},
	}
	if err := w.Finish(tags, nil); err != nil {
		return err
	}
	sum, size, err := sign.Append(w.File(), e.Key)
	if err != nil {
		return err
	}
	c.SHA256 = hex.EncodeToString(sum[:])
	c.Size = size
	if err := w.Close(); err != nil {
		return err
	}
	if err := e.Index.AddRecording(c); err != nil {
		return err
	}
	e.log.Info("repaired interrupted recording", "id", c.ID, "file", c.File, "duration_s", c.DurationS)
	return nil
}

// interrupted marks an entry whose file is finished after a crash or a
// write error.
func interrupted(c *index.Call) {
	if failedWrite(c) {
		c.Flags = append(c.Flags, "recovered-after-write-error: "+c.Reason)
	} else {
		c.EndReason = "power-loss"
	}
	c.Reason = ""
	c.Incomplete = true
}

// repairRaw cuts an interrupted raw media file to its last whole block,
// signs and indexes it.
func (e *Engine) repairRaw(abs string, c *index.Call) error {
	sp, err := rawmedia.Repair(abs)
	if err != nil {
		return err
	}
	if c.Answer.IsZero() {
		c.Answer = sp.First
	}
	if c.Start.IsZero() {
		c.Start = c.Answer
	}
	c.End = sp.Last
	if c.End.Before(c.Answer) {
		c.End = c.Answer
	}
	c.DurationS = c.End.Sub(c.Answer).Seconds()
	interrupted(c)
	f, err := os.OpenFile(abs, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	sum, size, err := sign.Append(f, e.Key)
	if err != nil {
		return err
	}
	c.SHA256 = hex.EncodeToString(sum[:])
	c.Size = size
	c.Recorded = true
	if err := e.Index.AddRecording(c); err != nil {
		return err
	}
	e.log.Info("repaired interrupted raw media", "id", c.ID, "file", c.File, "packets", sp.Packets)
	return nil
}
