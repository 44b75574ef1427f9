package daemon

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"spanrec/firmware/anchor"
	"spanrec/firmware/metrics"
	"spanrec/hal/ledstate"
)

// storageFull is the status fault of a full data partition.
const storageFull = "storage full: nothing may be deleted (recordings not yet offloaded are kept)"

// listenMetrics opens the metrics listener, refusing an address of a
// capture interface: the SPAN port never answers anything.
func (d *Daemon) listenMetrics(ctx context.Context) (net.Listener, error) {
	m := d.opts.Metrics
	if slices.Contains(d.opts.Live.Interfaces, m.Interface) {
		return nil, fmt.Errorf("metrics: %s is a capture interface", m.Interface)
	}
	if ap, err := netip.ParseAddrPort(m.Listen); err == nil && !ap.Addr().IsUnspecified() {
		for _, name := range d.opts.Live.Interfaces {
			ifc, err := net.InterfaceByName(name)
			if err != nil {
				continue
			}
			addrs, _ := ifc.Addrs()
			for _, a := range addrs {
				if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Unmap() == ap.Addr().Unmap() {
					return nil, fmt.Errorf("metrics: %s is an address of the capture interface %s", ap.Addr(), name)
				}
			}
		}
	}
	return metrics.Listen(ctx, m.Listen, m.Interface)
}

// Snapshot implements metrics.Source: what the capture loop owns is read
// in the loop (like Status), the rest from its owners' own locks.
func (d *Daemon) Snapshot() metrics.Snapshot {
	var s metrics.Snapshot
	var led ledstate.State
	err := d.do(func() {
		now := time.Now()
		sum := d.e.Summary()
		s.Frames, s.SIPMessages = sum.Pipeline.Frames, sum.Pipeline.SIP
		s.ActiveCalls, s.CallsSeen = sum.Calls.Active, sum.Calls.Calls
		s.Recorded, s.RawMedia, s.Failed = sum.Recorder.Recordings, sum.Recorder.RawMedia, sum.Recorder.Failed
		s.NotRecorded = sum.Recorder.NotRecorded + sum.Recorder.NoMedia
		s.Pauses, s.PoorQuality, s.Quality = sum.Recorder.Pauses, sum.Recorder.PoorQuality, sum.Recorder.Quality
		s.Refused = make(map[string]uint64)
		for _, r := range sum.Calls.Rejected.List() {
			s.Refused[r.Reason.String()] += r.N
		}
		for _, is := range d.src.Stats() {
			s.Interfaces = append(s.Interfaces, metrics.Interface{Name: is.Name, LinkUp: is.LinkUp, Packets: is.Packets,
				Bytes: is.Bytes, KernelDrops: is.KernelDrops, UserDrops: is.UserDrops})
		}
		led = d.ledState(now)
		s.RecordingCalls, s.PausedCalls = led.Recording, d.pausedCalls()
		d.clockMetrics(&s)
	})
	if err != nil {
		return s
	}
	st := d.app.storage.Status()
	s.StorageUsedBytes, s.StorageFreeBytes, s.StorageTotalBytes = st.UsedBytes, st.FreeBytes, st.TotalBytes
	s.StorageRecordings, s.StorageDeleted = st.Recordings, st.Deleted
	if o, ok := d.OffloadStatus(); ok {
		s.Offload = &metrics.Offload{Pending: o.Pending, LastSuccess: o.LastSuccess, ConsecutiveFailures: o.ConsecutiveFailures, Running: o.Running}
	}
	if w, err := anchor.Last(d.e.Index); err == nil && w != nil {
		s.AnchorTime = w.Time
	}
	s.Faults = make(map[string]bool)
	for _, f := range ledstate.AllFaults() {
		s.Faults[f.String()] = false
	}
	for _, f := range led.Faults() {
		s.Faults[f.String()] = true
	}
	s.Faults["storage full"] = st.Full
	if d.opts.Syslog != nil {
		n := d.opts.Syslog.Dropped()
		s.SyslogDropped = &n
	}
	s.StartTime = d.started
	return s
}

// pausedCalls counts the calls whose recording is paused (capture loop).
func (d *Daemon) pausedCalls() int {
	n := 0
	for _, c := range d.e.Calls() {
		if d.e.Paused(c) {
			n++
		}
	}
	return n
}
