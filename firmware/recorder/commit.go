package recorder

import (
	"fmt"

	"spanrec/firmware/index"
	"spanrec/media/sign"
)

// Finished files are made durable and indexed in groups: finishers (one
// per core) finish and sign the files of ended calls side by side without
// an fsync; the storage worker then makes every file finished since its
// last commit durable with one syncfs(2) and indexes them in one index
// transaction, in the order their calls ended, so the hash chain's order
// does not depend on which finisher was faster. A file is in the index
// only once its bytes are synced.

// maxUncommitted bounds the calls whose files are finished or being
// finished but not yet indexed: the storage worker commits at that many
// even while more work waits.
const maxUncommitted = 64

// finishedFile is one file a finisher finished, or failed to.
type finishedFile struct {
	entry  *index.Call
	failed bool // entry says why; indexed without a chain entry
}

// finishJob is one call's files on a finisher.
type finishJob struct {
	done  chan struct{}
	files []*finishedFile
}

// finishing runs work (finishing one call's files) on a free finisher, in
// the storage worker's order: the files are committed in the order
// finishing was called.
func (r *Recorder) finishing(work func(s *sign.Signer) []*finishedFile) {
	r.async(func() {
		j := &finishJob{done: make(chan struct{})}
		s := <-r.finishers // waits for a free finisher
		r.uncommitted = append(r.uncommitted, j)
		go func() {
			defer close(j.done)
			defer func() { r.finishers <- s }()
			j.files = work(s)
		}()
		if len(r.uncommitted) >= maxUncommitted {
			r.commit()
		}
	})
}

// commit (on the storage worker) writes the in-progress entries of the
// files opened since the last commit, waits for the files being finished,
// syncs the filesystem once and indexes them all in one transaction.
func (r *Recorder) commit() {
	if len(r.uncommitted) == 0 {
		return
	}
	r.writeInProgress()
	jobs := r.uncommitted
	r.uncommitted = nil
	var done []*index.Call
	for _, j := range jobs {
		<-j.done
		for _, f := range j.files {
			if f.failed {
				r.put(f.entry)
				continue
			}
			done = append(done, f.entry)
		}
	}
	if len(done) == 0 {
		return
	}
	if err := syncDir(r.cfg.DataDir); err != nil {
		// None of them is known to be on storage: none is indexed as
		// a finished recording.
		for _, e := range done {
			r.indexFailed(e, fmt.Errorf("sync recording: %w", err))
		}
		return
	}
	if err := r.cfg.Index.AddRecordings(done); err != nil {
		// One of them was refused: the others go in on their own.
		for _, e := range done {
			if err := r.cfg.Index.AddRecording(e); err != nil {
				r.indexFailed(e, fmt.Errorf("index recording: %w", err))
				continue
			}
			r.added(e)
		}
		return
	}
	for _, e := range done {
		r.added(e)
	}
}

// writeInProgress (on the storage worker) indexes the files opened since
// it last ran as in progress, in one transaction: at every commit of
// finished files, and at least every FlushIndex (a second, live).
func (r *Recorder) writeInProgress() {
	if len(r.inProgress) == 0 {
		return
	}
	if err := r.cfg.Index.PutBatch(r.inProgress); err != nil {
		r.log.Error("index write failed", "calls", len(r.inProgress), "err", err)
	}
	r.inProgress = nil
}

// indexFailed indexes a finished file that could not be made durable or
// chained, as a failed, incomplete recording.
func (r *Recorder) indexFailed(e *index.Call, err error) {
	e.Incomplete = true
	r.markFailed(e, err)
	r.put(e)
}

// added counts and logs a file now durable and in the index.
func (r *Recorder) added(e *index.Call) {
	r.indexed(e)
	if e.Media == index.MediaRaw {
		r.raws.Add(1)
		if e.RawOf == "" {
			r.rawOnly.Add(1)
		}
		r.log.Warn("raw media kept", "id", e.ID, "file", e.File, "duration_s", e.DurationS, "media", e.Codec, "why", e.RawWarning())
		return
	}
	r.recordings.Add(1)
	r.log.Info("recording finished", "id", e.ID, "file", e.File, "duration_s", e.DurationS, "codec", e.Codec)
}
