package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"spanrec/firmware/anchor"
	"spanrec/firmware/capture"
	"spanrec/firmware/clock"
	"spanrec/firmware/control"
	"spanrec/firmware/datadir"
	"spanrec/firmware/engine"
	"spanrec/firmware/metrics"
	"spanrec/firmware/offload"
	"spanrec/firmware/policy"
	"spanrec/firmware/storage"
	"spanrec/firmware/users"
	"spanrec/firmware/web"
)

// Options configure the daemon. Reload, if set, is called on SIGHUP to
// read the configuration again.
type Options struct {
	Engine     engine.Options
	Live       capture.LiveConfig
	SocketPath string // control socket ("" = none)
	// ControlUIDs gives local users other than root a role on the control
	// socket (control.uid_roles); root is admin, other uids have none.
	ControlUIDs map[uint32]users.Role
	// Control bounds the control socket's connections.
	Control ControlLimits
	Version string
	Log     *slog.Logger
	Reload  func() (Options, error)
	// PBX and Rules are the recording rules; a reload applies them to new
	// calls.
	PBX   policy.PBX
	Rules policy.Rules
	// Storage limits (DataDir is filled in), Offload (nil: off) and the
	// board's hardware.
	Storage  storage.Config
	Offload  *offload.Config
	Hardware Hardware
	// Console is the serial console's side of the control API.
	Console ConsoleOptions
	// Metrics is the Prometheus listener (off when Listen is empty).
	Metrics metrics.Config
	// Syslog, if set, is the remote syslog copy of the log, for its
	// drop counter in the metrics.
	Syslog interface{ Dropped() uint64 }
	// Clock is the clock's synchronisation state (nil: the kernel's);
	// NotBefore the earliest believable time (zero: the build time).
	Clock     clock.Source
	NotBefore time.Time
	// Web serves the web UI (web.listen "": none). Its sessions are the
	// control socket's.
	Web web.Config
}

// ControlLimits bound the control socket's connections (zero fields: the
// control package's defaults).
type ControlLimits struct {
	MaxConns    int
	IdleTimeout time.Duration
}

// Daemon is a running `spanrec run`.
type Daemon struct {
	opts    Options
	log     *slog.Logger
	e       *engine.Engine
	src     *capture.LiveSource
	started time.Time
	cmds    chan func()
	done    chan struct{}
	frame   capture.Frame
	app     *appliance
	ctl     *control.ConnLimits
	// web is the web UI's address and certificate, once it serves.
	web atomic.Pointer[control.Web]
}

// ErrStopped is returned by control requests after shutdown began.
var ErrStopped = errors.New("spanrec is shutting down")

// Run records until ctx is cancelled (SIGTERM/SIGINT), then finalises every
// open recording. A value on hup reloads the configuration.
func Run(ctx context.Context, opts Options, hup <-chan os.Signal) error {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts.Engine.Log = log
	pol, err := policy.NewEngine(opts.PBX, opts.Rules)
	if err != nil {
		return fmt.Errorf("recording rules: %w", err)
	}
	opts.Engine.Recorder.Policy = pol
	if opts.Clock == nil {
		opts.Clock = clock.Kernel{}
	}
	if opts.NotBefore.IsZero() {
		opts.NotBefore = clock.BuildTime()
	}
	opts.Engine.Clock, opts.Engine.NotBefore = opts.Clock, opts.NotBefore
	d := &Daemon{opts: opts, log: log, started: time.Now(), cmds: make(chan func()), done: make(chan struct{}),
		ctl: control.NewConnLimits(opts.Control.MaxConns, opts.Control.IdleTimeout)}
	defer close(d.done)
	if len(opts.Live.Interfaces) == 0 {
		name, err := capture.DefaultInterface()
		if err != nil {
			return fmt.Errorf("no capture interface configured and none found: %w", err)
		}
		d.opts.Live.Interfaces = []string{name}
	}
	e, err := engine.Open(opts.Engine)
	if err != nil {
		return err
	}
	d.e = e
	if _, err := e.Recover(); err != nil {
		log.Error("recovery of interrupted recordings failed", "err", err)
	}
	src, err := capture.OpenLive(d.opts.Live)
	if err != nil {
		e.Close("startup-failed")
		return err
	}
	d.src = src
	log.Info("spanrec running", "version", opts.Version, "interfaces", d.opts.Live.Interfaces, "data", opts.Engine.DataDir)

	var wg sync.WaitGroup
	ctlCtx, stopCtl := context.WithCancel(context.Background())
	d.app = d.startAppliance(ctlCtx)
	backend := d.consoleBackend(d.opts.Console)
	sessions := users.NewSessions(users.SessionOptions{})
	if opts.SocketPath != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := control.Serve(ctlCtx, opts.SocketPath, backend.Services(d), control.Options{Log: log, UIDRoles: opts.ControlUIDs, Limits: d.ctl, Sessions: sessions}); err != nil {
				log.Error("control socket", "err", err)
			}
		}()
	}
	if opts.Metrics.Listen != "" {
		ln, err := d.listenMetrics(ctlCtx)
		if err != nil {
			log.Error("metrics not served", "listen", opts.Metrics.Listen, "interface", opts.Metrics.Interface, "err", err)
		} else {
			log.Info("metrics served", "url", "http://"+ln.Addr().String()+"/metrics", "interface", opts.Metrics.Interface)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := metrics.Serve(ctlCtx, ln, metrics.Handler(metrics.NewRegistry(d)), log); err != nil {
					log.Error("metrics listener", "err", err)
				}
			}()
		}
	}
	if opts.Web.Listen != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wo := backend.WebOptions(d)
			wo.Sessions, wo.Log = sessions, log
			err := web.ListenAndServe(ctlCtx, opts.Web, opts.Engine.DataDir, wo,
				func(addr, fp string) { d.web.Store(&control.Web{Listen: addr, Fingerprint: fp}) })
			if err != nil {
				log.Error("web UI", "err", err)
			}
		}()
	}
	runErr := d.loop(ctx, hup)
	stopCtl()
	wg.Wait()
	d.app.wg.Wait()
	d.src.Close()
	log.Info("finalising open recordings", "calls", len(d.e.Calls()))
	closeErr := d.e.Close("shutdown")
	s := d.e.Summary()
	log.Info("spanrec stopped", "recordings", s.Recorder.Recordings, "calls", s.Calls.Calls, "frames", s.Pipeline.Frames)
	return errors.Join(runErr, closeErr)
}

// loop is the capture loop: the only goroutine that touches call state.
func (d *Daemon) loop(ctx context.Context, hup <-chan os.Signal) error {
	pipe := d.e.Pipeline()
	nextTick := time.Now().Add(time.Second)
	for n := 0; ; n++ {
		err := d.src.ReadFrame(&d.frame)
		switch {
		case err == nil:
			pipe.HandleFrame(&d.frame)
			if n&63 != 0 {
				continue // the checks below run every 64 frames or when idle
			}
		case errors.Is(err, capture.ErrTimeout):
		default:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("capture: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case fn := <-d.cmds:
			fn()
		case <-hup:
			d.reload()
		case p := <-d.app.presses:
			d.buttonPressed(p)
		default:
		}
		if now := time.Now(); !now.Before(nextTick) {
			nextTick = now.Add(time.Second)
			d.e.Tick(now)
			d.applianceTick(now)
		}
	}
}

// do runs fn in the capture loop and waits for it.
func (d *Daemon) do(fn func()) error {
	ran := make(chan struct{})
	select {
	case d.cmds <- func() { fn(); close(ran) }:
	case <-d.done:
		return ErrStopped
	}
	select {
	case <-ran:
		return nil
	case <-d.done:
		return ErrStopped
	}
}

func (d *Daemon) reload() {
	if d.opts.Reload == nil {
		return
	}
	next, err := d.opts.Reload()
	if err != nil {
		d.log.Error("configuration reload failed; keeping the running configuration", "err", err)
		return
	}
	d.e.SetCallsConfig(next.Engine.Calls)
	if pol, ok := d.opts.Engine.Recorder.Policy.(*policy.Engine); ok {
		if err := pol.Set(next.PBX, next.Rules); err != nil {
			d.log.Error("reload: recording rules not valid; keeping the old ones", "err", err)
		}
	}
	d.e.SetMaxDuration(next.Engine.MaxDuration)
	d.opts.Engine.MaxDuration = next.Engine.MaxDuration
	if len(next.Live.Interfaces) > 0 && !slices.Equal(next.Live.Interfaces, d.opts.Live.Interfaces) {
		src, err := capture.OpenLive(next.Live)
		if err != nil {
			d.log.Error("reload: cannot capture on the new interfaces; keeping the old ones", "interfaces", next.Live.Interfaces, "err", err)
		} else {
			d.src.Close()
			d.src = src
			d.opts.Live = next.Live
		}
	}
	d.log.Info("configuration reloaded", "interfaces", d.opts.Live.Interfaces, "max_duration", d.opts.Engine.MaxDuration)
}

// Status implements control.Daemon.
func (d *Daemon) Status() control.Status {
	var st control.Status
	err := d.do(func() {
		s := d.e.Summary()
		st = control.Status{
			Version:           d.opts.Version,
			Started:           d.started.UTC(),
			UptimeS:           time.Since(d.started).Seconds(),
			Frames:            s.Pipeline.Frames,
			SIPMessages:       s.Pipeline.SIP,
			RTPPackets:        s.Pipeline.RTP,
			ActiveCalls:       s.Calls.Active,
			CallsSeen:         s.Calls.Calls,
			RecordingsWritten: s.Recorder.Recordings,
			RawMediaWritten:   s.Recorder.RawMedia,
			RawOnlyWritten:    s.Recorder.RawOnly,
			SIPOverTLS:        s.Calls.SIPOverTLS,
			OpaqueCalls:       s.Calls.OpaqueCalls,
			Evicted:           s.Calls.Evicted,
			Malformed:         s.Decoder.Malformed + s.Pipeline.SIPErrors,
		}
		for _, sk := range s.Decoder.Skipped() {
			st.Skipped = append(st.Skipped, control.Count{Reason: sk.Reason, N: sk.Frames})
		}
		for _, r := range s.Refused() {
			st.Refused = append(st.Refused, control.Count{Reason: r.Reason.String(), N: r.N})
		}
		st.Limits = d.limits(s)
		st.Faults = faults(d.ledState(time.Now()), d.app.storage.Status())
		st.Clock = statusClock(d.app.clock)
		q := s.Recorder
		st.Quality = &control.Quality{PoorMOS: d.e.PoorMOS(), Scored: q.Scored, Poor: q.PoorQuality,
			Last: q.LastScored.ID, LastMOS: q.LastScored.MOS, LastPoor: q.LastScored.Poor}
		for _, is := range d.src.Stats() {
			st.Interfaces = append(st.Interfaces, control.Interface{
				Name: is.Name, LinkUp: is.LinkUp, Packets: is.Packets, Bytes: is.Bytes,
				KernelDrops: is.KernelDrops, UserDrops: is.UserDrops,
			})
		}
	})
	if err != nil {
		return st
	}
	if w, err := anchor.Last(d.e.Index); err != nil {
		d.log.Warn("last anchor unreadable", "err", err)
	} else if w != nil {
		st.Anchor = &control.Anchor{Time: w.Time, Seq: w.Seq, Head: w.Head, Remote: w.Remote}
	}
	if w := d.web.Load(); w != nil {
		st.Web = w
	}
	st.Storage.Path = d.opts.Engine.DataDir
	st.Storage.FreeBytes, st.Storage.TotalBytes = datadir.Space(d.opts.Engine.DataDir)
	return st
}

// Calls implements control.Daemon.
func (d *Daemon) Calls() []control.Call {
	var out []control.Call
	_ = d.do(func() {
		now := time.Now()
		for _, c := range d.e.Calls() {
			cc := control.Call{
				ID: c.ID, CallID: c.CallID, Caller: c.Caller.User, Callee: c.Callee.User,
				State: c.State.String(), Start: c.Start.UTC(), Answer: c.Answer.UTC(),
				Paused: d.e.Paused(c), OnHold: c.OnHold(),
			}
			if !c.Answer.IsZero() {
				cc.DurationS = now.Sub(c.Answer).Seconds()
			} else {
				cc.Answer = time.Time{}
			}
			cc.Codec = c.Codec()
			out = append(out, cc)
		}
	})
	return out
}

// Pause implements control.Daemon.
func (d *Daemon) Pause(callID, source string) error {
	return d.pauseResume(callID, source, true)
}

// Resume implements control.Daemon.
func (d *Daemon) Resume(callID, source string) error {
	return d.pauseResume(callID, source, false)
}

func (d *Daemon) pauseResume(callID, source string, pause bool) error {
	var opErr error
	err := d.do(func() {
		f := d.e.Resume
		if pause {
			f = d.e.Pause
		}
		_, opErr = f(callID, source, time.Now())
	})
	if err != nil {
		return err
	}
	return opErr
}
