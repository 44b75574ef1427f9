package recorder

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"spanrec/firmware/calls"
	"spanrec/firmware/capture"
	"spanrec/firmware/index"
	"spanrec/firmware/policy"
	"spanrec/firmware/rawrtp"
	"spanrec/media/consent"
	"spanrec/media/dtmf"
	"spanrec/media/g711"
	"spanrec/media/jitter"
	"spanrec/media/mix"
	"spanrec/media/rtp"
	"spanrec/media/sign"
	"spanrec/media/wav"
)

// SampleRate is the rate of every recording (G.711 narrowband).
const SampleRate = 8000

// DefaultBlockSize is the WAV write block: large sequential writes for
// flash, small enough for a thousand concurrent calls.
const DefaultBlockSize = 64 << 10

// Index is what the recorder needs of the call index.
type Index interface {
	Put(c *index.Call) error
	PutBatch(cs []*index.Call) error
	AddRecording(c *index.Call) error
	Get(id string) (*index.Call, error)
}

// Config says where and how to record.
type Config struct {
	DataDir   string
	Key       ed25519.PrivateKey
	Index     Index
	BlockSize int           // WAV write block; default 64 KiB
	Window    time.Duration // how far packets may be reordered; default 2 s
	Software  string        // written into each file's ISFT tag
	Log       *slog.Logger
	// OnIndexed, if set, is called with every call written to the index.
	OnIndexed func(c *index.Call)
	// FeatureCode toggles pause/resume when dialled during a call (RFC 4733,
	// SIP INFO or in-band). Default "*1"; "off" disables it.
	FeatureCode string
	// KeepInbandDTMF keeps in-band DTMF tones in recordings; by default
	// they are cut out (written as silence), so card digits never reach a
	// file.
	KeepInbandDTMF bool
	// Policy decides which answered calls are recorded (nil: all).
	Policy Policy
	// Consent holds the prompts the PBX plays per direction; recordings of
	// a direction with a prompt are checked for it.
	Consent *consent.Set
	// QuarantineWithoutPrompt withholds recordings whose prompt was not
	// heard (they stay on disk and in the index, marked quarantined).
	QuarantineWithoutPrompt bool
	// ConsentSearch is how much of a recording's start is searched for the
	// prompt (default 30 s).
	ConsentSearch time.Duration
}

// Policy is what the recorder needs of the recording rules.
type Policy interface {
	Decide(c policy.CallInfo) (policy.Class, policy.Decision)
}

// Stats counts the recorder's work.
type Stats struct {
	Recordings  uint64 // files finished and indexed
	NotRecorded uint64 // calls indexed without a file
	Skipped     uint64 // calls already in the index (re-import)
	Failed      uint64 // recordings that hit an I/O error
	BadRTP      uint64
	Undecodable uint64 // packets of codecs that cannot be decoded
}

// Recorder implements calls.Handler.
type Recorder struct {
	cfg   Config
	log   *slog.Logger
	ulaw  *g711.Table
	alaw  *g711.Table
	pkt   rtp.Packet
	event rtp.TelephoneEvent
	tones *dtmf.ToneDetector
	pcm   []int16
	stats Stats
	// recordings and failed are counted by the storage worker.
	recordings, failed atomic.Uint64
	// pending are index entries of unanswered calls not yet written.
	pending []*index.Call
	// syncReq asks the syncer goroutine for a filesystem sync.
	syncReq chan struct{}
	// jobs feed the storage worker goroutine.
	jobs       chan func()
	workerDone chan struct{}
}

// queueLength bounds the storage work waiting; when it is full the capture
// loop waits (the kernel's capture ring absorbs the delay).
const queueLength = 4096

// batchSize is how many unanswered calls are indexed in one transaction.
const batchSize = 256

// FlushIndex writes the index entries still pending (the daemon calls it
// every second, and before closing the index).
func (r *Recorder) FlushIndex() {
	if len(r.pending) == 0 {
		return
	}
	batch := r.pending
	r.pending = nil
	r.async(func() {
		if err := r.cfg.Index.PutBatch(batch); err != nil {
			r.log.Error("index write failed", "calls", len(batch), "err", err)
			return
		}
		for _, e := range batch {
			r.indexed(e)
		}
	})
}

// async hands slow storage work (fsync, finishing and signing files,
// index transactions) to the storage worker, so the capture loop never
// waits for the disk. Jobs run one at a time in the order given.
func (r *Recorder) async(job func()) {
	r.jobs <- job
}

func (r *Recorder) worker() {
	defer close(r.workerDone)
	for job := range r.jobs {
		job()
	}
}

// Drain waits until the storage work queued so far is done.
func (r *Recorder) Drain() {
	r.FlushIndex()
	done := make(chan struct{})
	r.async(func() { close(done) })
	<-done
}

// Close waits for the storage work queued so far and stops the worker.
func (r *Recorder) Close() {
	r.FlushIndex()
	close(r.jobs)
	<-r.workerDone
	close(r.syncReq)
}

// New returns a Recorder.
func New(cfg Config) (*Recorder, error) {
	if len(cfg.Key) != ed25519.PrivateKeySize {
		return nil, ErrNoKey
	}
	if cfg.Index == nil {
		return nil, ErrNoIndex
	}
	// Memory per active call is about BlockSize + Window*32 KB/s; the
	// defaults keep 1,000 concurrent calls within ~130 MB.
	if cfg.Window <= 0 {
		cfg.Window = 2 * time.Second
	}
	if cfg.BlockSize <= 0 {
		cfg.BlockSize = DefaultBlockSize
	}
	if cfg.Software == "" {
		cfg.Software = "spanrec"
	}
	if cfg.Policy == nil {
		cfg.Policy = &policy.Engine{} // records every call, still classifies
	}
	if cfg.ConsentSearch <= 0 {
		cfg.ConsentSearch = 30 * time.Second
	}
	switch cfg.FeatureCode {
	case "":
		cfg.FeatureCode = "*1"
	case "off":
		cfg.FeatureCode = ""
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Recorder{
		cfg:        cfg,
		log:        log,
		ulaw:       g711.NewULaw(),
		alaw:       g711.NewALaw(),
		pcm:        make([]int16, 4096),
		tones:      dtmf.NewToneDetector(SampleRate),
		jobs:       make(chan func(), queueLength),
		workerDone: make(chan struct{}),
		syncReq:    make(chan struct{}, 1),
	}
	go r.worker()
	go r.syncer()
	return r, nil
}

// Stats returns the counters.
func (r *Recorder) Stats() Stats {
	s := r.stats
	s.Recordings = r.recordings.Load()
	s.Failed = r.failed.Load()
	return s
}

// codec is how one side's current payload type is decoded.
type codec struct {
	pt    int16 // -1: none yet
	table *g711.Table
	name  string
}

// recording is the per-call state, kept in calls.Call.Rec.
type recording struct {
	origin  time.Time // when this file's audio starts (answer, or a split)
	part    int       // 0 for a call in one file; 1, 2, ... once split
	id      string    // index ID of this file's entry
	paused  bool
	pauseAt int64 // timeline position where the running pause began
	// muteFrom/muteTo is the last finished pause: late packets inside it
	// stay silent.
	muteFrom, muteTo int64
	pauses           []index.Pause
	cues             []wav.Cue
	flushed          time.Time // last periodic flush
	rel              string    // file path relative to the data dir, with slashes
	abs              string
	w                *wav.Writer
	tl               *mix.Timeline
	streams          [2]*jitter.Stream
	source           [2]string
	codec            [2]codec
	codecs           []string // names of the codecs heard, in order
	// DTMF per side: the feature-code matcher, the RTP timestamp of the
	// last telephone-event seen, and whether an in-band tone is sounding.
	code      [2]*dtmf.CodeMatcher
	eventTS   [2]uint32
	eventSeen [2]bool
	toneOn    [2]bool
	// raw keeps the RTP of undecodable codecs (created on first need).
	raw       *rawrtp.Writer
	rawFailed bool
	skip      bool            // already indexed by an earlier run
	class     policy.Class    // classification by the PBX configuration
	decision  policy.Decision // whether the rules record the call
	err       error
}

// Answered opens the call's recording.
func (r *Recorder) Answered(c *calls.Call) {
	rec := &recording{id: c.ID, origin: c.Answer}
	c.Rec = rec
	if _, err := r.cfg.Index.Get(c.ID); err == nil {
		rec.skip = true
		return
	}
	rec.class, rec.decision = r.decide(c)
	if !rec.decision.Record {
		return // indexed with the reason when the call ends
	}
	r.open(rec)
	r.putInProgress(c, rec)
}

// decide applies the recording rules to a call.
func (r *Recorder) decide(c *calls.Call) (policy.Class, policy.Decision) {
	info := policy.CallInfo{
		Caller: c.Caller.User, Callee: c.Callee.User, Dialed: c.Dialed,
		CallerHost: c.Caller.Host, CalleeHost: c.Callee.Host,
		From: c.Signal[calls.Caller], To: c.Signal[calls.Callee],
		Header: func(string) []string { return nil },
	}
	if m := c.Invite; m != nil {
		info.Header = m.Headers
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
const InProgress = "in-progress"

// putInProgress indexes the file being written, so a crash leaves a trace
// of which call it belongs to.
func (r *Recorder) putInProgress(c *calls.Call, rec *recording) {
	if rec.w == nil {
		return
	}
	e := r.entry(c)
	e.ID, e.Part, e.File = rec.id, rec.part, rec.rel
	e.Answer, e.End = rec.origin.UTC(), time.Time{}
	e.EndReason, e.Reason = InProgress, "recording in progress"
	classify(e, rec.class, rec.decision)
	r.async(func() {
		if err := r.cfg.Index.Put(e); err != nil {
			r.log.Error("index write failed", "id", e.ID, "err", err)
		}
	})
}

// Flush writes what c's recording holds up to shortly before now to its
// file and fsyncs it, when interval has passed since the last flush: after
// a power cut the file keeps everything up to then.
func (r *Recorder) Flush(c *calls.Call, now time.Time, interval time.Duration) {
	rec, _ := c.Rec.(*recording)
	if rec == nil || rec.w == nil || rec.err != nil || now.Sub(rec.flushed) < interval {
		return
	}
	rec.flushed = now
	// Keep the last half second in the ring for packets still in flight.
	if err := rec.tl.Flush(position(rec.origin, now) - SampleRate/2); err != nil {
		rec.err = fmt.Errorf("write recording: %w", err)
		return
	}
	if err := rec.w.WriteOut(); err != nil {
		rec.err = fmt.Errorf("flush recording: %w", err)
		return
	}
	// One filesystem sync covers every recording flushed this round.
	select {
	case r.syncReq <- struct{}{}:
	default: // a sync is already pending
	}
}

// syncer makes flushed recordings durable: one syncfs(2) of the data
// directory's filesystem per request, however many files were flushed,
// so a thousand calls cost one sync a second, not a thousand fsyncs.
func (r *Recorder) syncer() {
	for range r.syncReq {
		if err := syncDir(r.cfg.DataDir); err != nil {
			r.log.Error("sync of recordings failed", "dir", r.cfg.DataDir, "err", err)
		}
	}
}

// open creates the recording's file and timeline for audio from rec.origin.
func (r *Recorder) open(rec *recording) {
	rec.codec = [2]codec{{pt: -1}, {pt: -1}}
	rec.codecs = nil
	if r.cfg.FeatureCode != "" && rec.code[0] == nil {
		rec.code = [2]*dtmf.CodeMatcher{dtmf.NewCodeMatcher(r.cfg.FeatureCode, 0), dtmf.NewCodeMatcher(r.cfg.FeatureCode, 0)}
	}
	rec.source = [2]string{}
	rec.muteFrom, rec.muteTo = 0, 0
	day := rec.origin.UTC()
	rec.rel = path.Join("recordings", day.Format("2006"), day.Format("01"), day.Format("02"), rec.id+".wav")
	rec.abs = filepath.Join(r.cfg.DataDir, filepath.FromSlash(rec.rel))
	if err := os.MkdirAll(filepath.Dir(rec.abs), 0o755); err != nil {
		rec.err = fmt.Errorf("create recording directory: %w", err)
		return
	}
	w, err := wav.Create(rec.abs, wav.Format{SampleRate: SampleRate, Channels: 2}, r.cfg.BlockSize)
	if err != nil {
		rec.err = fmt.Errorf("create recording: %w", err)
		return
	}
	rec.w = w
	rec.tl = mix.NewTimeline(int(r.cfg.Window.Seconds()*SampleRate), w)
	rec.flushed = rec.origin
	skew := int64(2 * SampleRate)
	rec.streams = [2]*jitter.Stream{jitter.New(skew), jitter.New(skew)}
}

// Media decodes one RTP packet onto the call's timeline. It makes no
// allocation once the call's codecs are known.
func (r *Recorder) Media(c *calls.Call, from calls.Side, p *capture.Packet) {
	rec, _ := c.Rec.(*recording)
	if rec == nil || rec.w == nil || rec.err != nil {
		return
	}
	if err := r.pkt.Unmarshal(p.Payload); err != nil {
		r.stats.BadRTP++
		return
	}
	h := &r.pkt.Header
	if h.PayloadType >= 72 && h.PayloadType <= 76 {
		return // RTCP multiplexed on the RTP port
	}
	cd := &rec.codec[from]
	if int16(h.PayloadType) != cd.pt {
		r.selectCodec(c, rec, from, h.PayloadType)
	}
	if cd.table == nil {
		switch cd.name {
		case "TELEPHONE-EVENT":
			r.telephoneEvent(c, rec, from, p.Time)
		case "CN":
		default:
			r.stats.Undecodable++
			r.keepRaw(c, rec, p)
		}
		return // comfort noise, events, unknown codecs: the gap stays silent
	}
	arrival := position(rec.origin, p.Time)
	pos, ok := rec.streams[from].Place(h.SequenceNumber, h.Timestamp, h.SSRC, arrival)
	if !ok {
		return
	}
	// Paused, or a late packet from inside a finished pause: the span stays
	// silent; the audio is still searched for the in-band code to resume.
	muted := rec.paused || pos < rec.muteTo && pos+int64(len(r.pkt.Payload)) > rec.muteFrom
	if muted && r.cfg.KeepInbandDTMF {
		return
	}
	if rec.source[from] == "" {
		rec.source[from] = p.Src.String()
	}
	payload := r.pkt.Payload
	for len(payload) > 0 {
		n := cd.table.Decode(r.pcm, payload)
		tone := !r.cfg.KeepInbandDTMF && r.inbandTone(c, rec, from, r.pcm[:n], pos, p.Time)
		if !tone && !muted {
			if err := rec.tl.Put(int(from), pos, r.pcm[:n]); err != nil {
				rec.err = fmt.Errorf("write recording: %w", err)
				r.log.Error("recording write failed", "id", c.ID, "err", err)
				return
			}
		}
		payload = payload[n:]
		pos += int64(n)
	}
}

func (r *Recorder) selectCodec(c *calls.Call, rec *recording, from calls.Side, pt uint8) {
	cd := &rec.codec[from]
	cd.pt = int16(pt)
	cd.table = nil
	name := ""
	if f, ok := c.Format(from, pt); ok {
		name = f.Encoding
	} else {
		switch pt {
		case 0:
			name = "PCMU"
		case 8:
			name = "PCMA"
		case 13:
			name = "CN"
		default:
			name = fmt.Sprintf("PT%d", pt)
		}
	}
	cd.name = name
	switch name {
	case "PCMU":
		cd.table = r.ulaw
	case "PCMA":
		cd.table = r.alaw
	}
	if name == "CN" || name == "TELEPHONE-EVENT" {
		return
	}
	for _, have := range rec.codecs {
		if have == name {
			return
		}
	}
	rec.codecs = append(rec.codecs, name)
}

// keepRaw writes an RTP packet of a codec that cannot be decoded to the
// call's raw RTP capture.
func (r *Recorder) keepRaw(c *calls.Call, rec *recording, p *capture.Packet) {
	if rec.raw == nil {
		if rec.rawFailed {
			return
		}
		w, err := rawrtp.Create(strings.TrimSuffix(rec.abs, ".wav") + ".rtp.pcap")
		if err != nil {
			rec.rawFailed = true
			r.log.Error("cannot keep raw RTP", "id", rec.id, "err", err)
			return
		}
		rec.raw = w
	}
	if err := rec.raw.Write(p.Time, p.Src, p.Dst, p.Payload); err != nil && !rec.rawFailed {
		rec.rawFailed = true
		r.log.Error("cannot keep raw RTP", "id", rec.id, "err", err)
	}
}

// telephoneEvent handles an RFC 4733 packet: a new event (a new RTP
// timestamp) is a digit.
func (r *Recorder) telephoneEvent(c *calls.Call, rec *recording, from calls.Side, at time.Time) {
	if r.event.Unmarshal(r.pkt.Payload) != nil {
		return
	}
	ts := r.pkt.Header.Timestamp
	if rec.eventSeen[from] && rec.eventTS[from] == ts {
		return // the same event, continued or its end packets
	}
	rec.eventSeen[from], rec.eventTS[from] = true, ts
	if d := eventDigit(r.event.Event); d != 0 {
		r.digit(c, rec, from, d, at)
	}
}

func eventDigit(e uint8) byte {
	switch {
	case e <= 9:
		return '0' + e
	case e == 10:
		return '*'
	case e == 11:
		return '#'
	case e >= 12 && e <= 15:
		return 'A' + e - 12
	}
	return 0
}

// inbandTone reports whether frame (at pos) is a DTMF tone; the tone's
// onset counts as a digit, and the frame before it is silenced too (it may
// hold the tone's first milliseconds).
func (r *Recorder) inbandTone(c *calls.Call, rec *recording, from calls.Side, frame []int16, pos int64, at time.Time) bool {
	d := r.tones.Detect(frame)
	if d == 0 {
		rec.toneOn[from] = false
		return false
	}
	if !rec.toneOn[from] {
		rec.toneOn[from] = true
		rec.tl.SilenceChannel(int(from), pos-int64(len(frame)), pos)
		r.digit(c, rec, from, d, at)
	}
	return true
}

// DTMF implements calls.Handler: a digit signalled by SIP INFO.
func (r *Recorder) DTMF(c *calls.Call, from calls.Side, d byte, at time.Time) {
	rec, _ := c.Rec.(*recording)
	if rec == nil || rec.w == nil {
		return
	}
	r.digit(c, rec, from, d, at)
}

// digit feeds the feature-code matcher: a complete code toggles the pause,
// which starts where the code's first digit began.
func (r *Recorder) digit(c *calls.Call, rec *recording, from calls.Side, d byte, at time.Time) {
	m := rec.code[from]
	if m == nil {
		return
	}
	done, start := m.Digit(d, at)
	if !done {
		return
	}
	if rec.paused {
		_ = r.Resume(c, "dtmf", at)
	} else {
		_ = r.Pause(c, "dtmf", start)
	}
}

// position is the timeline position (samples) of t in a file starting at origin.
func position(origin, t time.Time) int64 {
	return int64(t.Sub(origin)) * SampleRate / int64(time.Second)
}

// Errors of Pause and Resume.
var (
	ErrNotRecording  = errors.New("recorder: call is not being recorded")
	ErrAlreadyPaused = errors.New("recorder: recording is already paused")
	ErrNotPaused     = errors.New("recorder: recording is not paused")
)

// Paused reports whether the call's recording is paused.
func (r *Recorder) Paused(c *calls.Call) bool {
	rec, _ := c.Rec.(*recording)
	return rec != nil && rec.paused
}

// Pause stops recording c's audio from at on: the span is written as
// silence, marked by a cue point and listed in the index with its source.
func (r *Recorder) Pause(c *calls.Call, source string, at time.Time) error {
	rec, _ := c.Rec.(*recording)
	if rec == nil || rec.w == nil || rec.err != nil {
		return ErrNotRecording
	}
	if rec.paused {
		return ErrAlreadyPaused
	}
	pos := max(position(rec.origin, at), rec.tl.Committed())
	rec.tl.Silence(pos, rec.tl.End())
	rec.paused, rec.pauseAt = true, pos
	rec.pauses = append(rec.pauses, index.Pause{Start: at.UTC(), Source: source})
	rec.cues = append(rec.cues, wav.Cue{Frame: uint32(pos), Label: "pause (" + source + ")"})
	r.log.Info("recording paused", "id", rec.id, "source", source)
	return nil
}

// Resume ends c's pause at at.
func (r *Recorder) Resume(c *calls.Call, source string, at time.Time) error {
	rec, _ := c.Rec.(*recording)
	if rec == nil || rec.w == nil || rec.err != nil {
		return ErrNotRecording
	}
	if !rec.paused {
		return ErrNotPaused
	}
	pos := max(position(rec.origin, at), rec.pauseAt)
	rec.tl.Silence(rec.pauseAt, pos)
	rec.muteFrom, rec.muteTo = rec.pauseAt, pos
	rec.paused = false
	rec.pauses[len(rec.pauses)-1].End = at.UTC()
	rec.cues = append(rec.cues, wav.Cue{Frame: uint32(pos), Label: "resume (" + source + ")"})
	r.log.Info("recording resumed", "id", rec.id, "source", source)
	return nil
}

// Split finishes the current file of a long call at at and goes on in a
// new one (part 2, 3, ...), so a call is never lost to a size limit.
func (r *Recorder) Split(c *calls.Call, at time.Time) {
	rec, _ := c.Rec.(*recording)
	if rec == nil || rec.skip || rec.w == nil {
		return
	}
	if rec.part == 0 {
		rec.part = 1
	}
	paused, source := rec.paused, ""
	if paused {
		source = rec.pauses[len(rec.pauses)-1].Source
	}
	r.finishFile(c, rec, at, "split-max-duration")
	rec.part++
	rec.id = fmt.Sprintf("%s-p%d", c.ID, rec.part)
	rec.origin = at
	rec.err = nil
	rec.w, rec.tl = nil, nil
	rec.pauses, rec.cues = nil, nil
	rec.paused = false
	r.open(rec)
	r.putInProgress(c, rec)
	if paused && rec.w != nil {
		_ = r.Pause(c, source, at) // the pause goes on in the next part
	}
}

// Ended finalises the call's recording, if any, and indexes the call.
func (r *Recorder) Ended(c *calls.Call) {
	rec, _ := c.Rec.(*recording)
	if rec != nil && !c.Answer.IsZero() && !rec.skip && rec.decision.Record {
		r.finishFile(c, rec, c.End, c.EndReason)
		return
	}
	entry := r.entry(c)
	switch {
	case c.Answer.IsZero():
		entry.Reason = notAnsweredReason(c)
		cl, _ := r.decide(c)
		entry.Direction, entry.Trunk, entry.Queue, entry.Conference = cl.Direction, cl.Trunk, cl.Queue, cl.Conference
		r.stats.NotRecorded++
		// Batched: a flood of unanswered INVITEs costs one index write per
		// batch, not one per call.
		r.pending = append(r.pending, entry)
		if len(r.pending) >= batchSize {
			r.FlushIndex()
		}
		return
	case rec == nil:
		entry.Reason = "internal error: no recording state"
		r.async(func() { r.put(entry) })
	case !rec.skip && !rec.decision.Record:
		classify(entry, rec.class, rec.decision)
		entry.Reason = "not recorded: " + rec.decision.Reason
		entry.DurationS = c.End.Sub(c.Answer).Seconds()
		entry.Codec = offeredCodec(c)
		r.stats.NotRecorded++
		r.pending = append(r.pending, entry)
	default: // already in the index from an earlier run
		r.stats.Skipped++
		r.log.Info("call already in the index", "id", c.ID)
	}
}

// finishFile closes the current file of rec at end and indexes it.
func (r *Recorder) finishFile(c *calls.Call, rec *recording, end time.Time, endReason string) {
	if rec.paused {
		_ = r.Resume(c, "call-end", end)
	}
	entry := r.entry(c)
	entry.ID = rec.id
	entry.Part = rec.part
	entry.Answer = rec.origin.UTC()
	entry.End = end.UTC()
	entry.DurationS = end.Sub(rec.origin).Seconds()
	entry.EndReason = endReason
	entry.Pauses = rec.pauses
	classify(entry, rec.class, rec.decision)
	r.fillMedia(entry, c, rec)
	if rec.raw != nil {
		if err := rec.raw.Close(); err != nil {
			r.log.Error("cannot keep raw RTP", "id", rec.id, "err", err)
		}
		entry.RawRTP = strings.TrimSuffix(rec.rel, ".wav") + ".rtp.pcap"
		rec.raw, rec.rawFailed = nil, false
	}
	if rec.err == nil {
		end := max(position(rec.origin, entry.End), 0)
		if err := rec.tl.Close(end); err != nil {
			rec.err = fmt.Errorf("write recording: %w", err)
		}
	}
	w, rel, cues, err := rec.w, rec.rel, rec.cues, rec.err
	r.async(func() { r.finishAsync(w, rel, cues, entry, err) })
}

// finishAsync (on the storage worker) finishes, signs and indexes one file.
func (r *Recorder) finishAsync(w *wav.Writer, rel string, cues []wav.Cue, entry *index.Call, err error) {
	if err == nil {
		err = r.finish(w, rel, cues, entry)
	}
	if err != nil {
		r.failed.Add(1)
		entry.Recorded = false
		entry.Reason = "recording failed: " + err.Error()
		if w != nil {
			_ = w.Close()
			entry.File = rel
			entry.Incomplete = true
		}
		r.log.Error("recording failed", "id", entry.ID, "err", err)
		r.put(entry)
		return
	}
	r.recordings.Add(1)
	r.log.Info("recording finished", "id", entry.ID, "file", entry.File, "duration_s", entry.DurationS, "codec", entry.Codec)
}

func (r *Recorder) finish(w *wav.Writer, rel string, cues []wav.Cue, entry *index.Call) error {
	if err := w.Finish(infoTags(entry, r.cfg.Software), cues); err != nil {
		return fmt.Errorf("finish recording: %w", err)
	}
	sum, size, err := sign.Append(w.File(), r.cfg.Key)
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
	r.checkConsent(filepath.Join(r.cfg.DataDir, filepath.FromSlash(rel)), entry)
	if err := r.cfg.Index.AddRecording(entry); err != nil {
		return fmt.Errorf("index recording: %w", err)
	}
	r.indexed(entry)
	return nil
}

func (r *Recorder) put(entry *index.Call) {
	if err := r.cfg.Index.Put(entry); err != nil {
		r.log.Error("index write failed", "id", entry.ID, "err", err)
		return
	}
	r.indexed(entry)
}

func (r *Recorder) indexed(entry *index.Call) {
	if r.cfg.OnIndexed != nil {
		r.cfg.OnIndexed(entry)
	}
}

func (r *Recorder) entry(c *calls.Call) *index.Call {
	e := &index.Call{
		ID:         c.ID,
		CallID:     c.CallID,
		Caller:     c.Caller.User,
		CallerName: c.Caller.Display,
		Callee:     c.Callee.User,
		CalleeName: c.Callee.Display,
		Dialed:     c.Dialed,
		Start:      c.Start.UTC(),
		Answer:     c.Answer.UTC(),
		End:        c.End.UTC(),
		EndReason:  c.EndReason,
		Status:     c.Status,
		Transport:  strings.ToLower(transportName(c.Transport)),
		Flags:      append([]string(nil), c.Flags...),
	}
	if c.Answer.IsZero() {
		e.Answer = time.Time{}
	} else {
		e.DurationS = c.End.Sub(c.Answer).Seconds()
	}
	if len(c.Media[calls.Caller]) > 0 {
		e.CallerAddr = c.Media[calls.Caller][0].String()
	}
	if len(c.Media[calls.Callee]) > 0 {
		e.CalleeAddr = c.Media[calls.Callee][0].String()
	}
	return e
}

func (r *Recorder) fillMedia(e *index.Call, c *calls.Call, rec *recording) {
	e.Codec = strings.Join(rec.codecs, ",")
	if e.Codec == "" {
		e.Codec = offeredCodec(c)
	}
	var silent []string
	for side := calls.Caller; side <= calls.Callee; side++ {
		if c.Packets[side] == 0 {
			silent = append(silent, side.String())
		}
		if rec.streams[side] == nil || !rec.streams[side].Started() {
			continue
		}
		st := rec.streams[side].Stats()
		e.Streams = append(e.Streams, index.StreamStats{
			Side:        side.String(),
			Source:      rec.source[side],
			Packets:     st.Packets,
			Lost:        st.Lost,
			Duplicates:  st.Duplicates,
			Late:        st.TooOld,
			SSRCChanges: st.SSRCChanges,
		})
	}
	switch len(silent) {
	case 1:
		e.OneWay = true
		e.SilentSide = silent[0]
	case 2:
		e.SilentSide = "both"
		e.Flags = append(e.Flags, "no-media")
	}
	for _, name := range rec.codecs {
		if name != "PCMU" && name != "PCMA" {
			e.Flags = append(e.Flags, "undecodable-codec:"+name)
		}
	}
}

// offeredCodec names the first codec of the answer (or the offer) when no
// audio packet was decoded.
func offeredCodec(c *calls.Call) string {
	for _, side := range [2]calls.Side{calls.Callee, calls.Caller} {
		for _, f := range c.Formats[side] {
			if f.Encoding != "TELEPHONE-EVENT" && f.Encoding != "CN" {
				return f.Encoding
			}
		}
	}
	return ""
}

func transportName(t capture.Transport) string {
	switch t {
	case capture.UDP:
		return "udp"
	case capture.TCP:
		return "tcp"
	}
	return ""
}

// notAnsweredReason says, for the index, why a call has no recording.
func notAnsweredReason(c *calls.Call) string {
	status := ""
	if c.Status >= 300 {
		status = fmt.Sprintf(" (%d %s)", c.Status, c.StatusText)
	}
	switch c.EndReason {
	case "cancelled":
		return "not answered: cancelled by the caller" + status
	case "rejected":
		return "not answered: rejected" + status
	case "no-final-response":
		return "not answered: no final response to the INVITE"
	case "evicted-table-full":
		return "not answered: dropped from a full call table"
	case "call-id-reused":
		return "not answered: Call-ID reused by a new call"
	case "bye-before-answer":
		return "not answered: BYE before any answer was seen"
	}
	return "not answered: " + c.EndReason + status
}

func infoTags(e *index.Call, software string) []wav.InfoTag {
	name := fmt.Sprintf("Call %s -> %s", partyLabel(e.Caller, e.CallerName), partyLabel(e.Callee, e.CalleeName))
	return []wav.InfoTag{
		{ID: "INAM", Value: name},
		{ID: "IART", Value: partyLabel(e.Caller, e.CallerName)},
		{ID: "ICRD", Value: e.Answer.Format(time.RFC3339)},
		{ID: "ISFT", Value: software},
		{ID: "ICMT", Value: fmt.Sprintf("id=%s; call-id=%s; caller=%s; callee=%s; dialed=%s; start=%s; answer=%s; end=%s; duration=%.3fs; codec=%s; channels=left:caller,right:callee",
			e.ID, e.CallID, e.Caller, e.Callee, e.Dialed,
			e.Start.Format(time.RFC3339Nano), e.Answer.Format(time.RFC3339Nano), e.End.Format(time.RFC3339Nano),
			e.DurationS, e.Codec)},
	}
}

func partyLabel(user, display string) string {
	if display == "" {
		return user
	}
	return fmt.Sprintf("%s <%s>", display, user)
}

// Errors of New.
var (
	ErrNoKey   = errors.New("recorder: no signing key")
	ErrNoIndex = errors.New("recorder: no index")
)

// checkConsent searches the start of a finished recording for the consent
// prompt of its direction, and quarantines it when asked to and the prompt
// was not heard.
func (r *Recorder) checkConsent(path string, e *index.Call) {
	if r.cfg.Consent.For(e.Direction) == nil {
		return
	}
	pcm, err := readStart(path, r.cfg.ConsentSearch)
	if err != nil {
		r.log.Error("consent check: cannot read recording", "id", e.ID, "err", err)
		return
	}
	res, ok := r.cfg.Consent.Check(e.Direction, pcm, 2, r.cfg.ConsentSearch.Seconds())
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

// readStart reads the first d of a finished stereo recording's samples.
func readStart(path string, d time.Duration) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	p, err := wav.Read(io.NewSectionReader(f, 0, st.Size()), st.Size())
	if err != nil {
		return nil, err
	}
	n := min(len(p.Samples), int(d.Seconds()*SampleRate)*p.Channels)
	return p.Samples[:n], nil
}

// PartStart returns when the call's current file began (zero if none).
func (r *Recorder) PartStart(c *calls.Call) time.Time {
	if rec, _ := c.Rec.(*recording); rec != nil && rec.w != nil {
		return rec.origin
	}
	return time.Time{}
}
