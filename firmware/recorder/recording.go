package recorder

import (
	"fmt"
	"time"

	"spanrec/firmware/calls"
	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/firmware/policy"
	"spanrec/firmware/sipflow"
	"spanrec/media/dtmf"
	"spanrec/media/jitter"
	"spanrec/media/mix"
	"spanrec/media/quality"
	"spanrec/media/wav"
)

// recording is the per-call state, kept in calls.Call.Rec. It starts at
// the call's first media packet; its WAV is created at the first packet of
// audio and its raw media file at the first packet that is not audio, so a
// call leaves behind only the files that hold something.
type recording struct {
	r       *Recorder   // whose recording it is
	call    *calls.Call // the call it records
	origin  time.Time   // when this file's audio starts (answer, or a split)
	rate    int         // samples per second of the timeline
	part    int         // 0 for a call in one file; 1, 2, ... once split
	id      string      // index ID of this file's entry
	started bool        // media seen: streams and codecs set up
	paused  bool
	pauseAt int64 // timeline position where the running pause began
	// muteFrom/muteTo is the last finished pause: late packets inside it
	// stay silent.
	muteFrom, muteTo int64
	pauses           []index.Pause
	cues             []wav.Cue
	flushed          time.Time // last periodic flush
	// late is how far behind its arrival a packet was placed lately (the
	// most, decaying): a periodic flush keeps that much more in memory, so
	// a capture that falls behind and catches up loses nothing.
	late    int64
	rel     string // WAV path relative to the data dir, with slashes
	abs     string
	w       *wav.Writer
	tl      *mix.Timeline
	streams [2]*jitter.Stream
	// quality measures each side's packets (loss, jitter, MOS) for the
	// index; scored is the codec its MOS is estimated for ("": none yet).
	quality [2]quality.Stream
	scored  [2]quality.Codec
	source  [2]string
	codec   [2]codec
	codecs  []string // names of the codecs heard, in order
	// heard is set for a side once audio of it was placed that stands (not
	// taken back by the encryption guard).
	heard      [2]bool
	firstAudio [2]int64 // where each side's audio was first placed
	guard      [2]guard
	// encrypted are the flags of media that could not be decrypted.
	encrypted []string
	crypto    [2]sideCrypto
	// DTMF per side: the feature-code matcher, the RTP timestamp of the
	// last telephone-event seen, and whether an in-band tone is sounding.
	code      [2]*dtmf.CodeMatcher
	eventTS   [2]uint32
	eventSeen [2]bool
	toneOn    [2]bool
	raw       rawFile
	skip      bool            // already indexed by an earlier run
	released  bool            // files released (media idle, open-file budget): parts indexed
	lost      bool            // evicted at the open-file budget: its media is no longer recorded
	pauseNext string          // source of a pause that goes on in the next part
	class     policy.Class    // classification by the PBX configuration
	decision  policy.Decision // whether the rules record the call
	err       error
}

// position is the timeline position (samples) of t.
func (rec *recording) position(t time.Time) int64 {
	return int64(t.Sub(rec.origin)) * int64(rec.rate) / int64(time.Second)
}

// timeAt is the time of timeline position pos.
func (rec *recording) timeAt(pos int64) time.Time {
	return rec.origin.Add(time.Duration(pos * int64(time.Second) / int64(rec.rate)))
}

// recording reports whether the rules record the call (and it is not
// already in the index).
func (rec *recording) recording() bool {
	return rec != nil && !rec.skip && rec.decision.Record
}

// Answered decides whether the call is recorded; its file waits for the
// first media packet.
func (r *Recorder) Answered(c *calls.Call) {
	rec := &recording{r: r, call: c, id: c.ID, origin: c.Answer}
	c.Rec = rec
	if _, err := r.cfg.Index.Get(c.ID); err == nil {
		rec.skip = true
		return
	}
	rec.class, rec.decision = r.decide(c)
	rec.rate = r.rateFor(c) // known now: a pause may come before any media
	if rec.decision.Record && r.cfg.FeatureCode != "" {
		rec.code = [2]*dtmf.CodeMatcher{dtmf.NewCodeMatcher(r.cfg.FeatureCode, 0), dtmf.NewCodeMatcher(r.cfg.FeatureCode, 0)}
	}
}

// decide applies the recording rules to a call.
func (r *Recorder) decide(c *calls.Call) (policy.Class, policy.Decision) {
	info := policy.CallInfo{
		Caller: c.Caller.User, Callee: c.Callee.User, Dialed: c.Dialed,
		CallerHost: c.Caller.Host, CalleeHost: c.Callee.Host,
		From: c.Signal[calls.Caller], To: c.Signal[calls.Callee],
		Header: sipflow.HeaderLookup(c.Invite), // no INVITE: no headers
	}
	return r.cfg.Policy.Decide(info)
}

// classify fills the index entry's classification.
func classify(e *index.Call, cl policy.Class, d policy.Decision) {
	e.Direction = cl.Direction
	e.Trunk, e.Queue, e.Conference = cl.Trunk, cl.Queue, cl.Conference
	e.Rule = d.Rule
}

// InProgress is the end reason of an index entry whose recording is still
// being written; one found at start-up was cut short by a crash.
const InProgress = string(calls.EndInProgress)

// putInProgress indexes the files being written, so a crash leaves a
// trace of which call they belong to: File is the WAV, RawRTP the raw
// media, whichever exist so far.
func (r *Recorder) putInProgress(c *calls.Call, rec *recording) {
	if rec.w == nil && rec.raw.w == nil {
		return
	}
	e := r.entry(c)
	e.ID, e.Part = rec.id, rec.part
	if rec.w != nil {
		e.File = rec.rel
	}
	if rec.raw.w != nil {
		e.RawRTP = rec.raw.rel
	}
	e.Answer, e.End = rec.origin.UTC(), time.Time{}
	e.EndReason, e.Reason = InProgress, "recording in progress"
	classify(e, rec.class, rec.decision)
	r.async(func() {
		// Written with the storage worker's next commit or FlushIndex,
		// before any file finished after it.
		r.inProgress = append(r.inProgress, e)
		if len(r.inProgress) >= batchSize {
			r.writeInProgress()
		}
	})
}

// start sets up the recording's streams and codecs for media from
// rec.origin (the rate is chosen at the call's first part; later parts
// keep it).
func (r *Recorder) start(c *calls.Call, rec *recording) {
	rec.started = true
	if rec.rate == 0 {
		rec.rate = r.rateFor(c)
	}
	for i := range rec.codec {
		rec.codec[i].pt = -1
	}
	rec.codecs = nil
	rec.source = [2]string{}
	rec.heard = [2]bool{}
	rec.guard = [2]guard{}
	for i := range rec.crypto {
		rec.crypto[i].set = false // made again from the SDP (a split keeps the keys)
	}
	rec.muteFrom, rec.muteTo = 0, 0
	rec.flushed = rec.origin
	for i := range rec.streams {
		rec.streams[i] = jitter.New(jitter.Config{Rate: rec.rate})
	}
	rec.streams[0].Pair(rec.streams[1])
	for i := range rec.quality {
		rec.quality[i].Reset(8000)
		rec.scored[i] = quality.Codec{}
	}
	day := rec.origin.UTC()
	rec.rel = datadir.RecordingName(day, rec.id, ".wav")
	rec.abs = datadir.Layout(r.cfg.DataDir).Abs(rec.rel)
}

// openWAV creates the recording's WAV and timeline, at its first audio.
func (r *Recorder) openWAV(c *calls.Call, rec *recording) {
	if !r.fileRoom(c) {
		rec.err = ErrFileBudget
		return
	}
	if err := mkdirRecordings(rec.abs); err != nil {
		rec.err = fmt.Errorf("create recording directory: %w", err)
		return
	}
	w, err := wav.Create(rec.abs, wav.Format{SampleRate: rec.rate, Channels: 2}, r.cfg.BlockSize)
	if err != nil {
		rec.err = fmt.Errorf("create recording: %w", err)
		return
	}
	w.UseQueue(r.writes)
	rec.w = w
	r.open[c] = struct{}{}
	rec.tl = mix.NewTimeline(timelineRoom(rec.rate), r.window(rec), w)
	if rec.paused {
		rec.tl.Silence(rec.pauseAt, rec.tl.End())
	}
	r.putInProgress(c, rec)
}

// Flush writes what c's recording holds up to shortly before now to its
// file and fsyncs it, when interval has passed since the last flush: after
// a power cut the file keeps everything up to then. Audio from the first
// digit of a feature code still being dialled stays in memory, so that a
// pause it completes starts exactly there. now is capture time, which moves
// against the wall clock the caller ticks on: a quarter of the interval is
// forgiven, or a tick a little early would skip every other flush.
func (r *Recorder) Flush(c *calls.Call, now time.Time, interval time.Duration) {
	rec, _ := c.Rec.(*recording)
	if rec == nil || !rec.started || now.Sub(rec.flushed) < interval-interval/4 {
		return
	}
	rec.flushed = now
	r.flushRaw(c, rec)
	if rec.w == nil || rec.err != nil {
		return
	}
	upTo := r.writable(rec, now)
	rec.late = max(rec.late-int64(rec.rate/10), 0)
	if err := rec.tl.Flush(upTo); err != nil {
		rec.err = fmt.Errorf("write recording: %w", err)
		return
	}
	// Whole pages only, each written once: the write volume on flash is
	// the audio's (the rest of a page waits for the next flush).
	if err := rec.w.WriteOutPages(); err != nil {
		rec.err = fmt.Errorf("flush recording: %w", err)
		return
	}
	// One filesystem sync covers every recording flushed this round.
	select {
	case r.syncReq <- struct{}{}:
	default: // a sync is already pending
	}
}

// window is how many frames rec's timeline may hold (Config.Window).
func (r *Recorder) window(rec *recording) int {
	return int(r.cfg.Window.Seconds() * float64(rec.rate))
}

// minHold is how much audio (frames at rate) always stays in memory for
// packets still in flight: half a second.
func minHold(rate int) int { return rate / 2 }

// spill is how much audio beyond what is held is handed to the file at
// once as it comes: three eighths of a second (12 KB at 8 kHz), so that
// the timeline's first ring is 32,000 bytes, which the Go heap allocates
// as 32 KiB (half a second's ring, of 36,000 bytes, takes 40 KiB). An
// eighth of a second would keep 8 KB less a call (a 24 KiB ring), but it
// makes twice the writes, of a page each: importing 200 calls made 45,346
// writes instead of 21,945 and took 6% more CPU, and 2,000 live 10 s calls
// (scripts/capacity.sh) sent 1.34x their audio to the disk instead of
// 1.24x.
func spill(rate int) int { return rate * 3 / 8 }

// timelineRoom is the frames a recording's timeline has room for to begin
// with: what is held back, one spill, and an eighth of a second for the
// packets between two write-outs. It grows (up to the window) only while
// more must be held.
func timelineRoom(rate int) int { return minHold(rate) + spill(rate) + rate/8 }

// writable returns the timeline position before which rec's audio may be
// handed to its file at capture time now. It keeps the last half second
// for packets still in flight, more when packets have come late (never
// more than the ring may hold); the audio from the first digit of a
// feature code still being dialled, so that a pause it completes starts
// exactly there; and the audio the encryption guard may still take back.
func (r *Recorder) writable(rec *recording, now time.Time) int64 {
	hold := min(max(int64(minHold(rec.rate)), rec.late+int64(rec.rate/4)), int64(r.window(rec)-rec.rate/10))
	upTo := rec.position(now) - hold
	for _, m := range rec.code {
		if m == nil {
			continue
		}
		if first, ok := m.Since(); ok && now.Sub(first) <= m.Gap() {
			upTo = min(upTo, rec.position(first))
		}
	}
	for i := range rec.guard {
		if g := &rec.guard[i]; g.pending() {
			upTo = min(upTo, g.heldFrom())
		}
	}
	return upTo
}

// writeOut hands rec's audio to its file as it comes, a spill at a time,
// so that its timeline holds no more than it must; the periodic Flush
// makes it durable.
func (r *Recorder) writeOut(c *calls.Call, rec *recording, now time.Time) {
	committed := rec.tl.Committed()
	if rec.tl.End()-committed < int64(minHold(rec.rate)+spill(rec.rate)) {
		return
	}
	upTo := r.writable(rec, now)
	if upTo-committed < int64(spill(rec.rate)) {
		return
	}
	if err := rec.tl.Flush(upTo); err != nil {
		rec.err = fmt.Errorf("write recording: %w", err)
		r.log.Error("recording write failed", "id", c.ID, "err", err)
	}
}

// PartStart returns when the call's current file began (zero if none).
func (r *Recorder) PartStart(c *calls.Call) time.Time {
	if rec, _ := c.Rec.(*recording); rec != nil && rec.started {
		return rec.origin
	}
	return time.Time{}
}
