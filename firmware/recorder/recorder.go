package recorder

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"time"

	"spanrec/firmware/calls"
	"spanrec/firmware/index"
	"spanrec/firmware/policy"
	"spanrec/media/consent"
	"spanrec/media/dtmf"
	"spanrec/media/g711"
	"spanrec/media/quality"
	"spanrec/media/sign"
	"spanrec/media/wav"
)

// DefaultMaxOpenFiles is the default Config.MaxOpenFiles.
const DefaultMaxOpenFiles = 512

// DefaultBlockSize is the WAV write block: one page. The writer sends
// whole blocks straight from the timeline (a second of audio per flush,
// in one write), so the block only holds the part of a page not yet full:
// writes stay large and page-aligned, and a call's buffer is 4 KiB.
const DefaultBlockSize = 4 << 10

// Index is what the recorder needs of the call index.
type Index interface {
	Put(c *index.Call) error
	PutBatch(cs []*index.Call) error
	AddRecording(c *index.Call) error
	AddRecordings(cs []*index.Call) error
	Get(id string) (*index.Call, error)
}

// Config says where and how to record.
type Config struct {
	DataDir   string
	Key       ed25519.PrivateKey
	Index     Index
	BlockSize int           // WAV write block; default DefaultBlockSize
	Window    time.Duration // the most audio a call's timeline holds (late packets, a feature code); default 2 s
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
	// MaxOpenFiles bounds the calls with files open at once (a call has
	// a WAV, a raw media file or both); at the bound the least recently
	// active call's files are released (its part indexed "evicted-open-files")
	// for the new one. Default 512.
	MaxOpenFiles int
	// Finishers is how many ended calls' files are finished and signed at
	// once; default one per core, at most four. Live capture leaves its
	// capture loop a core (calls that end together would otherwise take
	// every core from it while the kernel's ring fills).
	Finishers int
	// SampleRate of the recordings: 0 (auto) records narrowband calls at
	// 8 kHz and calls where either side is wideband (G.722, Opus) at
	// 16 kHz; 8000, 16000 or 48000 records every call at that rate.
	SampleRate int
	// Stamp, if set, stamps an entry with the clock's state before its
	// WAV is finished (on the storage worker), so that the WAV's metadata
	// says what the index entry says.
	Stamp func(e *index.Call)
	// PoorMOS is the MOS below which a file is flagged poor-quality
	// (index.FlagPoorQuality); 0: quality.DefaultPoorMOS.
	PoorMOS float64
}

// Policy is what the recorder needs of the recording rules.
type Policy interface {
	Decide(c policy.CallInfo) (policy.Class, policy.Decision)
}

// Stats counts the recorder's work.
type Stats struct {
	Recordings  uint64 // recordings with audio finished and indexed
	RawMedia    uint64 // raw media files finished and indexed
	RawOnly     uint64 // ... of calls with no audio file
	NotRecorded uint64 // calls indexed without a file
	NoMedia     uint64 // answered calls indexed without a file: no media seen
	Skipped     uint64 // calls already in the index (re-import)
	Failed      uint64 // recordings that hit an I/O error
	Undecodable uint64 // packets of codecs that cannot be decoded
	BadAudio    uint64 // packets of a decodable codec that did not decode (broken Opus)
	Encrypted   uint64 // streams found encrypted by their payload's statistics
	SRTPFailed  uint64 // SRTP packets that failed authentication (not placed)
	// FilesReleased counts calls whose files were released for another
	// call's at the open-file budget.
	FilesReleased uint64
	OpenFiles     int // calls with files open now
	// Pauses counts the pauses started (console, button, web, DTMF).
	Pauses uint64
	// Scored counts the files given a MOS, PoorQuality those of them
	// flagged poor-quality; Quality tallies their directions (MOS,
	// jitter, loss) and LastScored is the last of them.
	Scored, PoorQuality uint64
	Quality             quality.Tally
	LastScored          LastScored
}

// LastScored is the last file given a MOS.
type LastScored struct {
	ID   string  // its index ID ("" before the first)
	MOS  float64 // the worse direction's
	Poor bool    // below Config.PoorMOS
}

// Recorder implements calls.Handler.
type Recorder struct {
	cfg   Config
	log   *slog.Logger
	ulaw  *g711.Table
	alaw  *g711.Table
	tones map[int]*dtmf.ToneDetector // by sample rate
	pcm   []int16                    // decoded audio of a packet
	conv  []int16                    // ... at the recording's rate
	stats Stats
	// recordings and failed are counted by the storage worker.
	recordings, raws, rawOnly, failed atomic.Uint64
	// pending are index entries without a file not yet written.
	pending []*index.Call
	// open are the calls with a file open (the open-file budget).
	open map[*calls.Call]struct{}
	// batches holds a token per index batch waiting for the worker.
	batches chan struct{}
	// syncReq asks the syncer goroutine for a filesystem sync.
	syncReq chan struct{}
	// writes takes the WAVs' writes off the goroutine that feeds media
	// (the capture loop): it copies and goes on.
	writes *wav.Queue
	// jobs feed the storage worker goroutine.
	jobs       chan func()
	workerDone chan struct{}
	// finishers holds a signer per free finisher (see commit.go).
	finishers chan *sign.Signer
	// uncommitted are the calls whose files are finished or being
	// finished since the storage worker's last commit (its own).
	uncommitted []*finishJob
	// inProgress are the in-progress entries of files opened since the
	// last commit (the storage worker's own).
	inProgress []*index.Call
}

// queueLength bounds the storage work waiting; when it is full the capture
// loop waits (the kernel's capture ring absorbs the delay).
const queueLength = 4096

// batchSize is how many calls without a file are indexed in one
// transaction; maxBatches how many such batches may wait for the storage
// worker (about 16,000 rows, a few tens of MB).
const (
	batchSize  = 256
	maxBatches = 64
)

// Errors of New.
var (
	ErrNoKey      = errors.New("recorder: no signing key")
	ErrNoIndex    = errors.New("recorder: no index")
	ErrSampleRate = errors.New("recorder: sample rate must be 8000, 16000 or 48000 (or 0: auto)")
	// ErrFileBudget is a recording's error when no file could be opened
	// within the open-file budget.
	ErrFileBudget = errors.New("recorder: open-file budget reached (limits.open_files)")
)

// tonesAt returns the in-band DTMF detector for a sample rate.
func (r *Recorder) tonesAt(rate int) *dtmf.ToneDetector {
	d := r.tones[rate]
	if d == nil {
		d = dtmf.NewToneDetector(rate)
		r.tones[rate] = d
	}
	return d
}

// New returns a Recorder.
func New(cfg Config) (*Recorder, error) {
	if len(cfg.Key) != ed25519.PrivateKeySize {
		return nil, ErrNoKey
	}
	if cfg.Index == nil {
		return nil, ErrNoIndex
	}
	// Memory per active call is about BlockSize + 1 s*32 KB/s (the
	// timeline: what is held for late packets and one write-out's worth;
	// it grows toward Window*32 KB/s only while packets come later or a
	// feature code holds audio) + the encryption guard (~4 KB a side) +
	// the call's SIP state: about 57 KB of heap in all
	// (BenchmarkMemoryPerCall), about 95 KiB resident at 1,000 live calls
	// (scripts/capacity.sh).
	if cfg.Window <= 0 {
		cfg.Window = 2 * time.Second
	}
	if cfg.BlockSize <= 0 {
		cfg.BlockSize = DefaultBlockSize
	}
	if cfg.MaxOpenFiles <= 0 {
		cfg.MaxOpenFiles = DefaultMaxOpenFiles
	}
	if cfg.Finishers <= 0 {
		cfg.Finishers = DefaultFinishers()
	}
	if cfg.Software == "" {
		cfg.Software = "spanrec"
	}
	if cfg.Policy == nil {
		cfg.Policy = &policy.Engine{} // records every call, still classifies
	}
	if cfg.PoorMOS == 0 {
		cfg.PoorMOS = quality.DefaultPoorMOS
	}
	if cfg.ConsentSearch <= 0 {
		cfg.ConsentSearch = 30 * time.Second
	}
	switch cfg.SampleRate {
	case 0, 8000, 16000, 48000:
	default:
		return nil, fmt.Errorf("%w: %d Hz", ErrSampleRate, cfg.SampleRate)
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
		pcm:        make([]int16, 8192),
		conv:       make([]int16, 8192),
		tones:      map[int]*dtmf.ToneDetector{},
		open:       map[*calls.Call]struct{}{},
		jobs:       make(chan func(), queueLength),
		workerDone: make(chan struct{}),
		syncReq:    make(chan struct{}, 1),
		batches:    make(chan struct{}, maxBatches),
		finishers:  make(chan *sign.Signer, cfg.Finishers),
		writes:     wav.NewQueue(writeChunks, writeChunkSize),
	}
	for range cap(r.finishers) {
		r.finishers <- &sign.Signer{}
	}
	go r.worker()
	go r.syncer()
	return r, nil
}

// Stats returns the counters.
func (r *Recorder) Stats() Stats {
	s := r.stats
	s.Recordings = r.recordings.Load()
	s.RawMedia, s.RawOnly = r.raws.Load(), r.rawOnly.Load()
	s.Failed = r.failed.Load()
	s.OpenFiles = len(r.open)
	return s
}

// PoorMOS is the MOS below which a file is flagged poor-quality.
func (r *Recorder) PoorMOS() float64 { return r.cfg.PoorMOS }

// FlushIndex writes the index entries still pending, in-progress entries
// included (the daemon calls it every second, and before closing the
// index).
func (r *Recorder) FlushIndex() {
	r.async(r.writeInProgress)
	if len(r.pending) == 0 {
		return
	}
	batch := r.pending
	r.pending = nil
	// At most maxBatches wait for the disk: a flood of calls that end
	// without a file holds that many rows in memory, then the capture
	// loop waits (the kernel's capture ring absorbs it).
	r.batches <- struct{}{}
	r.async(func() {
		defer func() { <-r.batches }()
		if err := r.cfg.Index.PutBatch(batch); err != nil {
			r.log.Error("index write failed", "calls", len(batch), "err", err)
			return
		}
		for _, e := range batch {
			r.indexed(e)
		}
	})
}

// queue adds an entry to the next index batch.
func (r *Recorder) queue(e *index.Call) {
	r.pending = append(r.pending, e)
	if len(r.pending) >= batchSize {
		r.FlushIndex()
	}
}

// async hands slow storage work (fsync, finishing and signing files,
// index transactions) to the storage worker, so the capture loop never
// waits for the disk. Jobs run one at a time in the order given.
func (r *Recorder) async(job func()) {
	r.jobs <- job
}

// worker runs the storage jobs; whenever it has caught up, it commits the
// files finished since its last commit.
func (r *Recorder) worker() {
	defer close(r.workerDone)
	for {
		var job func()
		ok := true
		select {
		case job, ok = <-r.jobs:
		default:
			r.commit()
			job, ok = <-r.jobs
		}
		if !ok {
			r.commit()
			return
		}
		job()
	}
}

// DefaultFinishers is the default Config.Finishers: one per core, at most
// four (each holds a file's block and a read-back buffer).
func DefaultFinishers() int {
	return min(max(runtime.GOMAXPROCS(0), 1), 4)
}

// Drain waits until the storage work queued so far is done: the audio
// flushed into the write queue written, finished files durable and
// indexed.
func (r *Recorder) Drain() {
	r.writes.Wait()
	r.FlushIndex()
	done := make(chan struct{})
	r.async(func() {
		r.commit()
		close(done)
	})
	<-done
}

// Close waits for the storage work queued so far and stops the worker.
func (r *Recorder) Close() {
	r.FlushIndex()
	close(r.jobs)
	<-r.workerDone
	close(r.syncReq)
	r.writes.Close()
}

// The write queue holds at most writeChunks×writeChunkSize bytes (2 MiB):
// at 1,000 narrowband calls, about 60 ms of their audio. When it is full
// the capture loop waits for it, as it waited for each write before.
const (
	writeChunks    = 64
	writeChunkSize = 32 << 10
)

// syncer makes flushed recordings durable: one syncfs(2) of the data
// directory's filesystem per request, however many files were flushed,
// so a thousand calls cost one sync a second, not a thousand fsyncs.
func (r *Recorder) syncer() {
	for range r.syncReq {
		r.writes.Wait() // the writes of the flushes that asked for it
		if err := syncDir(r.cfg.DataDir); err != nil {
			r.log.Error("sync of recordings failed", "dir", r.cfg.DataDir, "err", err)
		}
	}
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
