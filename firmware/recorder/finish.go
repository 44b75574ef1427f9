package recorder

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"spanrec/firmware/calls"
	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/media/sign"
	"spanrec/media/wav"
)

// Ended finalises the call's recording, if any, and indexes the call.
func (r *Recorder) Ended(c *calls.Call) {
	rec, _ := c.Rec.(*recording)
	switch {
	case c.Answer.IsZero():
		entry := r.entry(c)
		entry.Reason = notAnsweredReason(c)
		cl, _ := r.decide(c)
		entry.Direction, entry.Trunk, entry.Queue, entry.Conference = cl.Direction, cl.Trunk, cl.Queue, cl.Conference
		r.stats.NotRecorded++
		// Batched: a flood of unanswered INVITEs costs one index write per
		// batch, not one per call.
		r.queue(entry)
	case rec == nil:
		entry := r.entry(c)
		entry.Reason = "internal error: no recording state"
		r.async(func() { r.put(entry) })
	case rec.skip:
		r.stats.Skipped++
		r.log.Info("call already in the index", "id", c.ID)
	case !rec.decision.Record:
		entry := r.entry(c)
		classify(entry, rec.class, rec.decision)
		entry.Reason = "not recorded: " + rec.decision.Reason
		r.stats.NotRecorded++
		r.queue(entry)
	case !rec.started && rec.err == nil && rec.released:
		// Its files were released (media idle, open-file budget) and no
		// media came since: the parts are indexed.
		r.log.Info("call ended after its files were released", "id", c.ID, "reason", c.EndReason)
	case !rec.started && rec.err == nil:
		// Answered, but no media of it was ever seen: nothing to record.
		entry := r.entry(c)
		classify(entry, rec.class, rec.decision)
		entry.Reason = "not recorded: answered, but no media was seen (SIP only on this port, or the media took another path)"
		if why, ok := evictedReason(c); ok {
			entry.Reason = "not recorded: answered without media, " + why
		}
		entry.Pauses = rec.pauses
		entry.SilentSide = "both"
		entry.Flags = appendFlag(entry.Flags, "no-media")
		r.stats.NoMedia++
		r.queue(entry)
	default:
		r.finishFile(c, rec, c.End, c.EndReason)
	}
}

// finishFile closes the current files of rec at end and indexes them: the
// WAV as the call's entry; the raw media as an entry of its own, the
// call's entry when there is no audio.
func (r *Recorder) finishFile(c *calls.Call, rec *recording, end time.Time, endReason calls.EndReason) {
	if rec.paused {
		_ = r.resumeAt(rec, "call-end", rec.position(end))
	}
	entry := r.entry(c)
	entry.ID = rec.id
	entry.Part = rec.part
	entry.Answer = rec.origin.UTC()
	entry.End = end.UTC()
	entry.DurationS = end.Sub(rec.origin).Seconds()
	entry.EndReason = string(endReason)
	entry.Pauses = rec.pauses
	classify(entry, rec.class, rec.decision)
	r.fillMedia(entry, c, rec)

	var raw *index.Call
	rw, rawFailed := rec.raw.w, rec.raw.failed
	if rw != nil {
		if !rawFailed {
			r.rawSignalling(c, rec) // the rest of the call's SIP (its BYE)
		}
		raw = rawEntry(entry, rec)
	}
	w, rel, abs, cues, err := rec.w, rec.rel, rec.abs, rec.cues, rec.err
	delete(r.open, c) // its descriptors are closed by the storage worker
	if w != nil && raw != nil && !rec.heard[calls.Caller] && !rec.heard[calls.Callee] {
		// Nothing in the WAV is audio: it is not kept as if it were.
		discard := w
		r.async(func() {
			_ = discard.Close()
			_ = os.Remove(abs)
		})
		w = nil
	}
	switch {
	case w == nil && raw == nil && err != nil:
		// No file to finish: the failure is an index row like any other,
		// batched (a storm of failures is not a storm of synced writes).
		r.failed.Add(1)
		entry.Reason = "recording failed: " + err.Error()
		r.log.Error("recording failed", "id", entry.ID, "err", err)
		r.queue(entry)
		return
	case w == nil && raw == nil:
		// Media was seen, but none of it could be kept.
		entry.Reason = "not recorded: the media seen held no audio and could not be kept"
		r.stats.NoMedia++
		r.queue(entry)
		return
	case w == nil:
		raw.ID = rec.id
		r.finishing(func(s *sign.Signer) []*finishedFile {
			return []*finishedFile{r.finishRawFile(s, rw, raw, rawFailed)}
		})
		return
	case raw != nil:
		raw.ID, raw.RawOf = rec.id+"-raw", rec.id
		entry.RawRTP, entry.RawID = raw.File, raw.ID
	}
	if err == nil {
		end := max(rec.position(entry.End), 0)
		if err = rec.tl.Close(end); err != nil {
			err = fmt.Errorf("write recording: %w", err)
		}
	}
	r.finishing(func(s *sign.Signer) []*finishedFile {
		files := []*finishedFile{r.finishWAVFile(s, w, rel, cues, entry, err)}
		if raw != nil {
			files = append(files, r.finishRawFile(s, rw, raw, rawFailed))
		}
		return files
	})
}

// finishWAVFile (on a finisher) finishes and signs one WAV, without an
// fsync: the storage worker syncs and indexes it with the others finished
// since its last commit.
func (r *Recorder) finishWAVFile(s *sign.Signer, w *wav.Writer, rel string, cues []wav.Cue, entry *index.Call, err error) *finishedFile {
	if err == nil {
		err = r.finishWAV(s, w, rel, cues, entry)
	}
	if err != nil {
		if w != nil {
			_ = w.Close()
			entry.File = rel
			entry.Incomplete = true
		}
		r.markFailed(entry, err)
		return &finishedFile{entry: entry, failed: true}
	}
	return &finishedFile{entry: entry}
}

func (r *Recorder) finishWAV(s *sign.Signer, w *wav.Writer, rel string, cues []wav.Cue, entry *index.Call) error {
	if r.cfg.Stamp != nil {
		r.cfg.Stamp(entry) // the clock's state, in the WAV as in the index
	}
	if err := w.FinishUnsynced(infoTags(entry, r.cfg.Software), cues); err != nil {
		return fmt.Errorf("finish recording: %w", err)
	}
	sum, size, err := s.AppendUnsynced(w.File(), r.cfg.Key)
	if err != nil {
		return fmt.Errorf("sign recording: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("close recording: %w", err)
	}
	entry.Recorded = true
	entry.File = rel
	entry.SHA256 = hex.EncodeToString(sum[:])
	entry.Size = size
	r.checkConsent(datadir.Layout(r.cfg.DataDir).Abs(rel), entry)
	return nil
}

// markFailed makes entry say its recording failed with err.
func (r *Recorder) markFailed(entry *index.Call, err error) {
	r.failed.Add(1)
	entry.Recorded = false
	entry.Reason = "recording failed: " + err.Error()
	r.log.Error("recording failed", "id", entry.ID, "err", err)
}

// checkConsent searches the start of a finished recording for the consent
// prompt of its direction, and quarantines it when asked to and the prompt
// was not heard.
func (r *Recorder) checkConsent(path string, e *index.Call) {
	if r.cfg.Consent.For(e.Direction) == nil {
		return
	}
	pcm, rate, err := readStart(path, r.cfg.ConsentSearch)
	if err != nil {
		r.log.Error("consent check: cannot read recording", "id", e.ID, "err", err)
		return
	}
	res, ok := r.cfg.Consent.Check(e.Direction, pcm, 2, rate, r.cfg.ConsentSearch.Seconds())
	if !ok {
		return
	}
	heard := res.Heard
	e.PromptHeard, e.PromptScore = &heard, res.Score
	if !heard && r.cfg.QuarantineWithoutPrompt {
		e.Quarantined = true
		e.Flags = append(e.Flags, "quarantined:no-consent-prompt")
	}
}

// readStart reads the first d of a finished stereo recording's samples,
// and their rate, without reading the rest of its audio.
func readStart(path string, d time.Duration) ([]int16, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	// The rate is in the header: read it first, then only the samples
	// searched (not the whole call).
	hdr, err := wav.ReadStart(io.NewSectionReader(f, 0, st.Size()), st.Size(), 0)
	if err != nil {
		return nil, 0, err
	}
	p, err := wav.ReadStart(io.NewSectionReader(f, 0, st.Size()), st.Size(), int64(d.Seconds()*float64(hdr.SampleRate)))
	if err != nil {
		return nil, 0, err
	}
	return p.Samples, p.SampleRate, nil
}
