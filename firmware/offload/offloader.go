package offload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Errors of a run. Item failures wrap one of ErrLocal, ErrRemote or
// ErrVerify (and ErrLocalMismatch where it applies).
var (
	// ErrLocal marks a failure on the appliance's side (the Source): an
	// unreadable recording, manifest or public key, or a failed mark or
	// delete. The run goes on with the next recording.
	ErrLocal = errors.New("offload: local")
	// ErrLocalMismatch marks a local recording whose content does not
	// match its index entry (SHA-256 or size); it is never offloaded.
	ErrLocalMismatch = errors.New("offload: local file differs from its index entry")
	// ErrRemote marks a failure of the target (connection, I/O, a full
	// share). The run stops; the next run resumes.
	ErrRemote = errors.New("offload: target")
	// ErrVerify marks a copy whose read-back differs from the local file.
	// The run stops; the copy is retried from scratch.
	ErrVerify = errors.New("offload: verification failed")
	// ErrOutsideWindow is returned by scheduled runs that found the window
	// closed before starting.
	ErrOutsideWindow = errors.New("offload: outside the offload window")
	// ErrItemsFailed is returned by RunOnce when some recordings failed
	// (see Report.Failures) but the run itself went through.
	ErrItemsFailed = errors.New("offload: some recordings failed")
)

// Failure is one recording that could not be offloaded in a run.
type Failure struct {
	// ID is the recording's call ID.
	ID string
	// Err says why (redacted).
	Err error
}

// Report sums up one run.
type Report struct {
	// Copied counts recordings copied (or finished after a resume) and
	// verified in this run.
	Copied int
	// Skipped counts recordings already present and verified on the
	// target (from an earlier run that stopped before marking them).
	Skipped int
	// Resumed counts copies that continued a partial file.
	Resumed int
	// Failed counts recordings that failed, plus those not attempted
	// because the target failed.
	Failed int
	// Bytes is the number of bytes written to the target.
	Bytes int64
	// Duration is the run's wall time.
	Duration time.Duration
	// Failures lists the recordings that failed.
	Failures []Failure
	// Anchor is the anchor written at the end of the run (its name on
	// the target), "" when none was (the head was anchored already, or
	// the Source keeps no chain).
	Anchor string
}

// Status is the Offloader's state for a console or an API.
type Status struct {
	// Running tells whether a run is in progress.
	Running bool
	// LastRun is when the last run started; zero before the first.
	LastRun time.Time
	// LastSuccess is when the last run without error ended.
	LastSuccess time.Time
	// LastError is the last run's error text (redacted), "" on success.
	LastError string
	// LastReport is the last finished run's report.
	LastReport Report
	// Pending is the number of recordings known to wait for offload.
	Pending int
	// BytesPerSec is the last finished run's transfer rate, or the
	// current run's while Running.
	BytesPerSec float64
	// NextRun is when Run plans the next scheduled run; zero when Run is
	// not running.
	NextRun time.Time
	// ConsecutiveFailures counts failed runs since the last success.
	ConsecutiveFailures int
	// Lock is what the target's retention lock enforces, as found by
	// the last run that reached it; nil for targets without one (dir,
	// sftp, smb) and before the first run.
	Lock *LockStatus
}

// Offloader copies pending recordings from a Source to a Target.
type Offloader struct {
	cfg    Config
	window Window
	src    Source
	log    *slog.Logger

	dial func(ctx context.Context, cfg Config) (Target, error)
	now  func() time.Time

	runMu   sync.Mutex // one run at a time
	trigger chan struct{}

	runBytes atomic.Int64 // bytes written by the run in progress
	mu       sync.Mutex
	status   Status
	runStart time.Time
}

// New validates cfg and returns an Offloader over src. log may be nil
// (nothing is logged).
func New(cfg Config, src Source, log *slog.Logger) (*Offloader, error) {
	if err := cfg.invalid(); err != nil {
		return nil, err
	}
	if src == nil {
		return nil, fmt.Errorf("%w: nil source", ErrConfig)
	}
	cfg = cfg.WithDefaults()
	w, err := ParseWindow(cfg.Window)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("offload", cfg)
	if cfg.InsecureHostKey {
		log.Warn("offload: SFTP host key checking is disabled (insecure_host_key); any server can pose as the target")
	}
	return &Offloader{
		cfg:     cfg,
		window:  w,
		src:     src,
		log:     log,
		dial:    Dial,
		now:     time.Now,
		trigger: make(chan struct{}, 1),
	}, nil
}

// Config returns the configuration (with defaults applied).
func (o *Offloader) Config() Config { return o.cfg }

// Trigger asks Run for a run now ("offload now"), regardless of the
// window and of a pending retry delay. It never blocks; triggers while a
// run is pending collapse into one.
func (o *Offloader) Trigger() {
	select {
	case o.trigger <- struct{}{}:
	default:
	}
}

// Status returns a snapshot of the Offloader's state.
func (o *Offloader) Status() Status {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.status
	s.LastReport.Failures = append([]Failure(nil), s.LastReport.Failures...)
	if s.Lock != nil {
		l := *s.Lock
		s.Lock = &l
	}
	if s.Running {
		if d := o.now().Sub(o.runStart).Seconds(); d > 0 {
			s.BytesPerSec = float64(o.runBytes.Load()) / d
		}
	}
	return s
}

// Run runs until ctx ends: a first run at once (inside the window), then
// one every Interval; after a failed run the next comes after the retry
// backoff (Retry.Min doubling up to Retry.Max). Scheduled runs start only
// inside the window and stop between recordings when it closes; Trigger
// starts a run at once. Run returns ctx's error.
func (o *Offloader) Run(ctx context.Context) error {
	failures := 0
	next := o.now()
	defer o.setNext(time.Time{})
	for {
		at := next
		if !o.window.Contains(at) {
			at = o.window.Next(at)
		}
		o.setNext(at)
		triggered := false
		timer := time.NewTimer(max(0, at.Sub(o.now())))
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-o.trigger:
			timer.Stop()
			triggered = true
		case <-timer.C:
			// The timer may fire a little early or late; a scheduled run
			// outside the window is simply rescheduled.
			if !o.window.Contains(o.now()) {
				next = o.now().Add(time.Minute).Truncate(time.Minute)
				continue
			}
		}
		_, err := o.run(ctx, !triggered)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && !errors.Is(err, ErrOutsideWindow) {
			failures++
			next = o.now().Add(o.backoff(failures))
			o.log.Warn("offload run failed", "err", err, "retry_in", o.backoff(failures))
		} else {
			failures = 0
			next = o.now().Add(o.cfg.Interval.Std())
		}
	}
}

// backoff is the delay after the n-th consecutive failure.
func (o *Offloader) backoff(n int) time.Duration {
	d := o.cfg.Retry.Min.Std()
	for i := 1; i < n && d < o.cfg.Retry.Max.Std(); i++ {
		d *= 2
	}
	return min(max(d, 0), o.cfg.Retry.Max.Std())
}

func (o *Offloader) setNext(t time.Time) {
	o.mu.Lock()
	o.status.NextRun = t
	o.mu.Unlock()
}

// RunOnce offloads every pending recording now, ignoring the window. It
// returns the run's report and an error when the run or any recording
// failed: errors.Is(err, ErrRemote) (or ErrVerify) when the target failed
// and the run stopped, ErrItemsFailed when only some recordings failed.
// Concurrent calls wait for each other.
func (o *Offloader) RunOnce(ctx context.Context) (Report, error) {
	return o.run(ctx, false)
}

// run is RunOnce; inWindow makes it stop between recordings once the
// window has closed.
func (o *Offloader) run(ctx context.Context, inWindow bool) (rep Report, err error) {
	o.runMu.Lock()
	defer o.runMu.Unlock()
	start := o.now()
	o.runBytes.Store(0)
	o.mu.Lock()
	o.status.Running = true
	o.status.LastRun = start
	o.runStart = start
	o.mu.Unlock()
	defer func() {
		rep.Duration = o.now().Sub(start)
		rep.Bytes = o.runBytes.Load()
		o.finish(rep, err)
	}()
	if inWindow && !o.window.Contains(start) {
		return rep, ErrOutsideWindow
	}

	items, err := o.src.Pending(ctx)
	if err != nil {
		return rep, fmt.Errorf("%w: pending list: %w", ErrLocal, err)
	}
	o.setPending(len(items))
	as, _ := o.src.(AnchorSource)
	var anchorName string
	var anchorData []byte
	if len(items) == 0 {
		if as == nil {
			return rep, nil
		}
		// Nothing to copy, but retention may have chained deletions
		// since the last anchor.
		if anchorName, anchorData, err = as.Anchor(ctx, o.now()); err != nil || anchorName == "" {
			if err != nil {
				err = fmt.Errorf("%w: anchor: %w", ErrLocal, err)
			}
			return rep, err
		}
	}
	t, err := o.dial(ctx, o.cfg)
	if err != nil {
		rep.Failed = len(items)
		return rep, err
	}
	// Cancelling ctx closes the target, which aborts a blocked transfer.
	stop := context.AfterFunc(ctx, func() { t.Close() })
	defer func() {
		if stop() {
			t.Close()
		}
	}()
	o.log.Info("offload run", "pending", len(items))
	if lr, ok := t.(LockReporter); ok {
		l := lr.Lock()
		o.mu.Lock()
		o.status.Lock = &l
		o.mu.Unlock()
		if o.cfg.RetentionDays > 0 && !l.Enabled {
			o.log.Warn("offload: retention_days is set but the bucket has no Object Lock; objects are not locked", "bucket", o.cfg.Bucket)
		}
	}

	if err := o.putPublicKey(ctx, t); err != nil {
		rep.Failed = len(items)
		return rep, err
	}
	if len(items) == 0 {
		rep.Anchor, err = o.writeAnchor(ctx, t, as, anchorName, anchorData)
		return rep, err
	}
	done := 0
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			rep.Failed += len(items) - i
			return rep, err
		}
		if inWindow && !o.window.Contains(o.now()) {
			o.log.Info("offload window closed", "left", len(items)-i)
			break
		}
		skipped, resumed, err := o.offloadItem(ctx, t, it)
		if err != nil {
			rep.Failed++
			rep.Failures = append(rep.Failures, Failure{ID: it.ID, Err: err})
			o.log.Warn("offload failed", "id", it.ID, "err", err)
			if errors.Is(err, ErrRemote) || errors.Is(err, ErrVerify) || ctx.Err() != nil {
				rep.Failed += len(items) - i - 1
				if ctx.Err() != nil {
					return rep, ctx.Err()
				}
				return rep, fmt.Errorf("offload: run stopped at %s: %w", it.ID, err)
			}
			continue
		}
		done++
		o.setPending(len(items) - done)
		if skipped {
			rep.Skipped++
		} else {
			rep.Copied++
		}
		if resumed {
			rep.Resumed++
		}
	}
	if as != nil {
		// The head after this run's copies and deletions.
		name, data, err := as.Anchor(ctx, o.now())
		if err != nil {
			return rep, fmt.Errorf("%w: anchor: %w", ErrLocal, err)
		}
		if rep.Anchor, err = o.writeAnchor(ctx, t, as, name, data); err != nil {
			return rep, err
		}
	}
	if rep.Failed > 0 {
		return rep, fmt.Errorf("%w: %d of %d (first: %s: %w)", ErrItemsFailed, rep.Failed, len(items),
			rep.Failures[0].ID, rep.Failures[0].Err)
	}
	return rep, nil
}

func (o *Offloader) setPending(n int) {
	o.mu.Lock()
	o.status.Pending = n
	o.mu.Unlock()
}

// finish records a finished run in the status.
func (o *Offloader) finish(rep Report, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := &o.status
	s.Running = false
	s.LastReport = rep
	if d := rep.Duration.Seconds(); d > 0 {
		s.BytesPerSec = float64(rep.Bytes) / d
	}
	if err != nil && !errors.Is(err, ErrOutsideWindow) {
		s.LastError = err.Error()
		s.ConsecutiveFailures++
	} else if err == nil {
		s.LastError = ""
		s.LastSuccess = o.now()
		s.ConsecutiveFailures = 0
	}
	o.log.Info("offload run done", "copied", rep.Copied, "skipped", rep.Skipped, "resumed", rep.Resumed,
		"failed", rep.Failed, "bytes", rep.Bytes, "duration", rep.Duration)
}

// RemoteURL describes where name lands on the target, without
// credentials: file:///path/name, sftp://user@host:port/path/name,
// smb://user@host:port/share/path/name or, for s3, the object's
// path-style URL https://host:port/bucket/PREFIX/... (see ObjectKey).
func (o *Offloader) RemoteURL(name string) string {
	c := o.cfg
	switch c.Kind {
	case KindS3:
		u, err := url.Parse(c.Endpoint)
		if err != nil {
			return ""
		}
		return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/" + c.Bucket + "/" + ObjectKey(c.Prefix, name)}).String()
	case KindDir:
		return (&url.URL{Scheme: "file", Path: joinBase(c.Path, name)}).String()
	case KindSMB:
		return (&url.URL{Scheme: "smb", User: url.User(c.User), Host: hostPort(c),
			Path: "/" + joinBase(c.Share, joinBase(c.Path, name))}).String()
	default:
		p := joinBase(c.Path, name)
		if p[0] != '/' {
			p = "/~/" + p // relative to the login directory
		}
		return (&url.URL{Scheme: c.Kind, User: url.User(c.User), Host: hostPort(c), Path: p}).String()
	}
}

func hostPort(c Config) string { return c.Host + ":" + strconv.Itoa(c.Port) }
