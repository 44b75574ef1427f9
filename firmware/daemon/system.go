package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"time"

	"spanrec/firmware/control"
	"spanrec/firmware/datadir"
	"spanrec/firmware/index"
	"spanrec/firmware/offload"
)

// rebootTimeout bounds the reboot command.
const rebootTimeout = 30 * time.Second

// System is the appliance as the console sees it (control.Appliance):
// the data partition, the clock, reboot.
type System struct {
	dataDir string
	ix      *index.Index
	started time.Time
	clock   func() *control.ClockState
	reboot  []string
	log     *slog.Logger
}

// Storage implements control.Appliance.
func (b *System) Storage() (control.StorageInfo, error) {
	s := control.StorageInfo{Storage: control.Storage{Path: b.dataDir}}
	s.FreeBytes, s.TotalBytes = datadir.Space(b.dataDir)
	err := b.ix.List(func(c *index.Call) error {
		s.Calls++
		switch {
		case !c.Recorded:
		case c.Raw():
			s.RawMedia++
			if c.RawOf == "" {
				s.RawOnly++
			}
			s.RecordingBytes += c.Size
		default:
			s.Recordings++
			s.RecordingBytes += c.Size
		}
		return nil
	})
	return s, err
}

// Time implements control.Appliance.
func (b *System) Time() control.TimeInfo {
	now := time.Now()
	name, off := now.Zone()
	ti := control.TimeInfo{Now: now, Zone: fmt.Sprintf("%s (UTC%+03d:%02d)", name, off/3600, zoneMinutes(off)), Started: b.started}
	if b.clock != nil {
		ti.Clock = b.clock()
	}
	return ti
}

func zoneMinutes(off int) int {
	n := off / 60 % 60
	if n < 0 {
		return -n
	}
	return n
}

// Reboot implements control.Appliance: it runs the reboot command.
func (b *System) Reboot() error {
	argv := b.reboot
	if len(argv) == 0 {
		argv = []string{"reboot"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), rebootTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("reboot: %s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	b.log.Warn("reboot requested from the console", "command", argv)
	return nil
}

// offloadService is the offload scheduler as the console sees it
// (control.Offload).
type offloadService struct{ o Offloader }

// OffloadNow implements control.Offload.
func (s offloadService) OffloadNow() error {
	s.o.Trigger()
	return nil
}

// OffloadStatus implements control.Offload.
func (s offloadService) OffloadStatus() (control.OffloadStatus, error) {
	st := s.o.Status()
	lock := ""
	switch {
	case st.Lock != nil:
		lock = st.Lock.String()
	case s.o.Config().Kind == offload.KindS3:
		lock = "object lock: not known yet (no run has reached the bucket)"
	}
	return control.OffloadStatus{
		ObjectLock:          lock,
		Target:              s.o.Config().String(),
		Running:             st.Running,
		LastRun:             st.LastRun,
		LastSuccess:         st.LastSuccess,
		LastError:           st.LastError,
		LastCopied:          st.LastReport.Copied,
		LastFailed:          st.LastReport.Failed,
		Pending:             st.Pending,
		BytesPerSec:         st.BytesPerSec,
		NextRun:             st.NextRun,
		ConsecutiveFailures: st.ConsecutiveFailures,
	}, nil
}
