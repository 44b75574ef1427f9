package recorder

import (
	"fmt"
	"time"

	"spanrec/firmware/calls"
)

// Files are released before the call ends in two cases: its media went
// idle while its dialog goes on (MediaIdle), and the open-file budget
// needs them for another call (fileRoom). The part so far is finished and
// indexed like a split; media afterwards starts the next part, except for
// a call that lost its files to the budget.

// MediaIdle releases the files of a call whose media stopped while its
// dialog goes on: the part so far is finished and indexed (end reason
// "media-idle"), and media that comes back starts the next part.
func (r *Recorder) MediaIdle(c *calls.Call, at time.Time) {
	if rec, _ := c.Rec.(*recording); rec.recording() && rec.started {
		r.release(c, rec, at, calls.EndMediaIdle)
	}
}

// release finishes the current part of rec at at with reason and leaves
// the call without files until its next media packet (a new part, from
// that packet on; a running pause goes on in it).
func (r *Recorder) release(c *calls.Call, rec *recording, at time.Time, reason calls.EndReason) {
	if rec.part == 0 {
		rec.part = 1
	}
	if rec.paused {
		rec.pauseNext = rec.pauses[len(rec.pauses)-1].Source
	}
	r.finishFile(c, rec, at, reason)
	rec.part++
	rec.id = fmt.Sprintf("%s-p%d", c.ID, rec.part)
	rec.origin = time.Time{}
	rec.err = nil
	rec.w, rec.tl = nil, nil
	rec.raw = rawFile{}
	rec.pauses, rec.cues = nil, nil
	rec.paused = false
	rec.started, rec.released = false, true
}

// restart sets up the recording at its first media packet, at: the
// call's first, or the first after its files were released.
func (r *Recorder) restart(c *calls.Call, rec *recording, at time.Time) {
	if rec.origin.IsZero() {
		rec.origin = at
	}
	r.start(c, rec)
	if rec.pauseNext != "" {
		_ = r.pauseAt(rec, rec.pauseNext, 0) // the pause goes on in this part
		rec.pauseNext = ""
	}
}

// fileRoom makes room for one more open recording (c's) within the
// open-file budget, releasing the files of the least recently active
// other call; false when there is none to release.
func (r *Recorder) fileRoom(c *calls.Call) bool {
	if _, ok := r.open[c]; ok || len(r.open) < r.cfg.MaxOpenFiles {
		return true
	}
	var victim *calls.Call
	for o := range r.open {
		if o != c && (victim == nil || o.LastMedia.Before(victim.LastMedia) ||
			o.LastMedia.Equal(victim.LastMedia) && o.Answer.Before(victim.Answer)) {
			victim = o
		}
	}
	if victim == nil {
		return false
	}
	r.stats.FilesReleased++
	r.log.Warn("open-file budget reached: releasing the least active recording", "id", victim.ID, "budget", r.cfg.MaxOpenFiles)
	vr := victim.Rec.(*recording)
	r.release(victim, vr, victim.LastMedia, calls.EndOpenFilesBudget)
	vr.lost = true // no files again: two busy calls do not take turns
	return true
}
