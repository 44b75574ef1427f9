package recorder

import (
	"errors"
	"fmt"
	"time"

	"spanrec/firmware/calls"
	"spanrec/firmware/index"
	"spanrec/media/wav"
)

// Errors of Pause and Resume.
var (
	ErrNotRecording  = errors.New("recorder: call is not being recorded")
	ErrAlreadyPaused = errors.New("recorder: recording is already paused")
	ErrNotPaused     = errors.New("recorder: recording is not paused")
)

// DTMF implements calls.Handler: a digit signalled by SIP INFO.
func (r *Recorder) DTMF(c *calls.Call, from calls.Side, d byte, at time.Time) {
	rec, _ := c.Rec.(*recording)
	if !rec.recording() {
		return
	}
	r.digit(c, rec, from, d, rec.position(at))
}

// digit feeds the feature-code matcher with a digit that began at timeline
// position pos: a complete code toggles the pause, which starts where the
// code's first digit began (Flush keeps that audio in memory meanwhile).
func (r *Recorder) digit(c *calls.Call, rec *recording, from calls.Side, d byte, pos int64) {
	m := rec.code[from]
	if m == nil {
		return
	}
	done, start := m.Digit(d, rec.timeAt(pos))
	if !done {
		return
	}
	if rec.paused {
		_ = r.resumeAt(rec, "dtmf", pos)
	} else {
		_ = r.pause(rec, "dtmf", rec.position(start))
	}
}

// Paused reports whether the call's recording is paused.
func (r *Recorder) Paused(c *calls.Call) bool {
	rec, _ := c.Rec.(*recording)
	return rec != nil && rec.paused
}

// Pause stops recording c's audio from at on: the span is written as
// silence, marked by a cue point and listed in the index with its source.
func (r *Recorder) Pause(c *calls.Call, source string, at time.Time) error {
	rec, _ := c.Rec.(*recording)
	if !rec.recording() || rec.err != nil {
		return ErrNotRecording
	}
	return r.pause(rec, source, rec.position(at))
}

// pause starts a pause someone asked for (not one going on into the next
// part) and counts it.
func (r *Recorder) pause(rec *recording, source string, pos int64) error {
	err := r.pauseAt(rec, source, pos)
	if err == nil {
		r.stats.Pauses++
	}
	return err
}

// Resume ends c's pause at at.
func (r *Recorder) Resume(c *calls.Call, source string, at time.Time) error {
	rec, _ := c.Rec.(*recording)
	if !rec.recording() || rec.err != nil {
		return ErrNotRecording
	}
	return r.resumeAt(rec, source, rec.position(at))
}

// pauseAt starts a pause at timeline position pos, or where the audio
// already written to the file ends if that is later: the index, the cue
// point and the silence all start at the same sample.
func (r *Recorder) pauseAt(rec *recording, source string, pos int64) error {
	if rec.paused {
		return ErrAlreadyPaused
	}
	pos = max(pos, 0)
	if rec.tl != nil {
		pos = max(pos, rec.tl.Committed())
		rec.tl.Silence(pos, rec.tl.End())
	}
	rec.paused, rec.pauseAt = true, pos
	rec.pauses = append(rec.pauses, index.Pause{Start: rec.timeAt(pos).UTC(), Source: source})
	rec.cues = append(rec.cues, wav.Cue{Frame: uint32(pos), Label: "pause (" + source + ")"})
	r.log.Info("recording paused", "id", rec.id, "source", source)
	return nil
}

// resumeAt ends the pause at timeline position pos.
func (r *Recorder) resumeAt(rec *recording, source string, pos int64) error {
	if !rec.paused {
		return ErrNotPaused
	}
	pos = max(pos, rec.pauseAt)
	if rec.tl != nil {
		rec.tl.Silence(rec.pauseAt, pos)
	}
	rec.muteFrom, rec.muteTo = rec.pauseAt, pos
	rec.paused = false
	rec.pauses[len(rec.pauses)-1].End = rec.timeAt(pos).UTC()
	rec.cues = append(rec.cues, wav.Cue{Frame: uint32(pos), Label: "resume (" + source + ")"})
	r.log.Info("recording resumed", "id", rec.id, "source", source)
	return nil
}

// Split finishes the current file of a long call at at and goes on in a
// new one (part 2, 3, ...), so a call is never lost to a size limit.
func (r *Recorder) Split(c *calls.Call, at time.Time) {
	rec, _ := c.Rec.(*recording)
	if !rec.recording() || !rec.started {
		return
	}
	if rec.part == 0 {
		rec.part = 1
	}
	paused, source := rec.paused, ""
	if paused {
		source = rec.pauses[len(rec.pauses)-1].Source
	}
	r.finishFile(c, rec, at, calls.EndSplit)
	rec.part++
	rec.id = fmt.Sprintf("%s-p%d", c.ID, rec.part)
	rec.origin = at
	rec.err = nil
	rec.w, rec.tl = nil, nil
	rec.raw = rawFile{}
	rec.pauses, rec.cues = nil, nil
	rec.paused = false
	r.start(c, rec)
	if paused {
		_ = r.pauseAt(rec, source, 0) // the pause goes on in the next part
	}
}
